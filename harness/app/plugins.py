"""The plug-in table: every task and trainer the application can find, as lazy "module:attr" entries.

It lives in the application layer, the one layer allowed to depend on the plug-ins (`tasks`, `trainers`), so
nothing below it names a plug-in module, even in a string. The registries import an entry on first use, which
keeps torch and faiss out of start-up; `tests/test_registry.py` imports every entry and checks that it is a
task or a trainer of the right layer. A new plug-in is one file plus one line here. Installed packages can
add their own under the entry-point groups `distill_harness.tasks`, `distill_harness.file_tasks` and
`distill_harness.trainers`.
"""

from __future__ import annotations

from harness.core.registry import Registry
from harness.core.training import Trainer
from harness.core.vocabulary import MINING, RETRIEVAL, STS

# dataset tasks: built with the data root
TASKS: Registry = Registry("task", "distill_harness.tasks")
TASKS.register("stsb-multi-mt", "tasks.stsb_multi_mt:STSbMultiMT")
TASKS.register("sts17", "tasks.sts17:STS17")
TASKS.register("tatoeba", "tasks.tatoeba:TatoebaMining")
TASKS.register("flores", "tasks.flores:FloresMining")
TASKS.register("xquad-r", "tasks.xquad_r:XQuADR")
TASKS.register("flores-plus", "tasks.flores_plus:FloresPlus")  # opt-in, as tatoeba-bucc
TASKS.register("tatoeba-bucc", "tasks.comparable:ComparableMining")  # opt-in: not in a family's defaults

# bring-your-own-file tasks: `KIND:ARGUMENT`, built by the class method from_argument(ARGUMENT)
FILE_TASKS: Registry = Registry("file task", "distill_harness.file_tasks")
FILE_TASKS.register("sts-file", "tasks.files:STSFile")
FILE_TASKS.register("mining-file", "tasks.files:MiningFile")
FILE_TASKS.register("retrieval-file", "tasks.files:RetrievalFile")
FILE_TASKS.register("xsimpp", "tasks.flores_plus:PublishedXsimPlusPlus")  # LASER's published near-duplicates
FILE_TASKS.register("mteb", "tasks.from_mteb:MtebTask")  # `mteb:NAME`: any mteb STS, BitextMining or Retrieval task

# what a family name (`--tasks sts`) stands for
FAMILY_DEFAULTS: dict[str, list[str]] = {
    STS: ["stsb-multi-mt", "sts17"],
    MINING: ["tatoeba", "flores"],
    RETRIEVAL: ["xquad-r"],
}

TRAINERS: Registry[type[Trainer]] = Registry("trainer", "distill_harness.trainers")
TRAINERS.register("distill", "trainers.distill:DistillTrainer")
TRAINERS.register("align-map", "trainers.align_map:AlignMapTrainer")
TRAINERS.register("ranking", "trainers.ranking:RankingTrainer")
TRAINERS.register("ranking-hn", "trainers.ranking:HardNegativeRankingTrainer")
TRAINERS.register("static", "trainers.static:StaticTrainer")
