"""The project's words, spelled once: the roles a model plays in a run, the task families and their main
scores. Everything that names a role or a family (the plan, the runner, the tables, the report's colours,
the mteb bridge) takes it from here, so a new role or family is one edit."""

from __future__ import annotations

# The roles of the leaderboard's rows, in the order the report lists them.
TEACHER, BASE, STUDENT, BASELINE, ABLATION = "teacher", "base", "student", "baseline", "ablation"
ROLES = (TEACHER, BASE, STUDENT, BASELINE, ABLATION)
TRAINED_ROLES = (STUDENT, ABLATION)  # the roles a run may give the students it trains
COMPAT = "compat"  # a teacher-compatibility record (student queries, teacher candidates): its own section

# One colour per role (ColorBrewer's dark qualitative set), shared by the report's badges and its figures.
ROLE_COLOURS = {TEACHER: "#7b3294", BASE: "#525252", STUDENT: "#0571b0", BASELINE: "#e66101", ABLATION: "#1b9e77"}

# The task families, in the order the report shows them, and the score that ranks models within each.
STS, MINING, RETRIEVAL = "sts", "mining", "retrieval"
FAMILIES = (STS, MINING, RETRIEVAL)
MAIN_SCORE = {STS: "spearman", MINING: "acc_margin_mean", RETRIEVAL: "ndcg@10"}

# A pair on which every model of a view scores at least this (main score, x100), tied after the paired tests,
# is saturated: it tells no model from another, so the report leaves it out of the averages.
SATURATION_CEILING = 99.0

BEFORE_GUARDS = "before the guards"  # the guard status shown for a student trained before trainers.guards existed
