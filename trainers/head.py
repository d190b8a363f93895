"""Shape a student to its teacher: a projection head when dimensions (or spaces) differ, and the
teacher's output normalisation.

A teacher that L2-normalises its output gives unit-length targets; a student left unnormalised
then learns vectors whose cosines crowd towards 1.0, so the student is made to normalise too.
"""

from __future__ import annotations

import numpy as np


def normalises(model) -> bool:
    """True when a SentenceTransformer ends in a Normalize module."""
    return type(model[len(model) - 1]).__name__ == "Normalize"


def embedding_dim(model) -> int:
    return int(model.get_embedding_dimension())


def least_squares_head(student_vecs: np.ndarray, teacher_vecs: np.ndarray, ridge: float = 1e-2):
    """Closed-form linear map (weight, bias) from student to teacher space: ridge regression."""
    x = np.hstack([student_vecs, np.ones((len(student_vecs), 1), dtype=student_vecs.dtype)]).astype(np.float64)
    gram = x.T @ x + ridge * np.eye(x.shape[1])
    solution = np.linalg.solve(gram, x.T @ teacher_vecs.astype(np.float64))
    return solution[:-1].T.astype(np.float32), solution[-1].astype(np.float32)  # (out, in), (out,)


def orthogonal_head(student_vecs: np.ndarray, teacher_vecs: np.ndarray):
    """The closest map with orthonormal columns (orthogonal Procrustes): (weight, zero bias).

    It rotates the student's space onto the teacher's as well as a rotation can, and changes no cosine:
    every similarity the student computes stays exactly as it was. Needs teacher dim >= student dim.
    """
    if teacher_vecs.shape[1] < student_vecs.shape[1]:
        raise ValueError(f"an orthogonal head cannot map {student_vecs.shape[1]} dimensions into "
                         f"{teacher_vecs.shape[1]}: use lstsq")
    u, _, vt = np.linalg.svd(teacher_vecs.astype(np.float64).T @ student_vecs.astype(np.float64),
                             full_matrices=False)
    weight = (u @ vt).astype(np.float32)  # (out, in), weight.T @ weight = I
    return weight, np.zeros(len(weight), dtype=np.float32)


FITTED_HEADS = {"lstsq": least_squares_head, "orthogonal": orthogonal_head}


TEACHER_OUTPUT = "teacher"  # the route name: model.encode(texts, task="teacher")
OWN_OUTPUT = "default"


def attach_head(student, teacher_dim: int, teacher_normalises: bool, *, head: str = "auto",
                fit: tuple[np.ndarray, np.ndarray] | None = None):
    """Return a SentenceTransformer: student modules [+ Dense projection] [+ Normalize].

    head: 'none' (dimensions must match), 'linear' (random init), 'lstsq' or 'orthogonal' (closed form
    from `fit`, a pair of student and teacher embeddings), or 'auto' (lstsq when `fit` is given, else
    linear when dimensions differ, else none).
    """
    from sentence_transformers import SentenceTransformer

    modules = list(student)
    modules += _head_modules(embedding_dim(student), teacher_dim, head, fit)
    if teacher_normalises and not (type(modules[-1]).__name__ == "Normalize"):
        modules.append(normalize_module())
    elif not teacher_normalises and type(modules[-1]).__name__ == "Normalize":
        modules.pop()
    return SentenceTransformer(modules=modules, device=str(student.device))


def attach_two_heads(student, teacher_dim: int, teacher_normalises: bool, fit: tuple[np.ndarray, np.ndarray], *,
                     own: str, teacher: str, teacher_fit: tuple[np.ndarray, np.ndarray] | None = None):
    """Return a SentenceTransformer with two outputs over one shared `student` trunk (a Router after it):
    the default one through the `own` head, and `task="teacher"` through the `teacher` head, fitted in
    closed form on `fit` (the teacher head on `teacher_fit` when given). An orthogonal `own` head keeps every
    cosine of the trunk; a least-squares `teacher` head lands nearer the teacher's vectors, so the teacher's
    index can be searched with it."""
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Router

    dim = embedding_dim(student)
    tail = [normalize_module()] if teacher_normalises else []
    routes = {OWN_OUTPUT: [*_head_modules(dim, teacher_dim, own, fit), *tail],
              TEACHER_OUTPUT: [*_head_modules(dim, teacher_dim, teacher, teacher_fit or fit), *tail]}
    # sentence-transformers' own retrieval tasks take the default output, as a one-output model would give
    aliases = {(task, None): OWN_OUTPUT for task in ("query", "document")}
    router = Router(routes, default_route=OWN_OUTPUT, route_mappings=aliases)
    return SentenceTransformer(modules=[*student, router], device=str(student.device))


def _head_modules(student_dim: int, teacher_dim: int, head: str, fit) -> list:
    """The projection modules `head` names ([] for none; see attach_head)."""
    import torch
    from sentence_transformers.sentence_transformer.modules import Dense

    if head == "auto":
        head = "lstsq" if fit is not None else ("linear" if student_dim != teacher_dim else "none")
    if head == "none" and student_dim != teacher_dim:
        raise ValueError(f"student dim {student_dim} != teacher dim {teacher_dim}: a projection head is needed")
    if head not in ("linear", *FITTED_HEADS):
        return []
    weight = bias = None
    if head in FITTED_HEADS:
        if fit is None:
            raise ValueError(f"head '{head}' needs student and teacher embeddings to fit")
        w, b = FITTED_HEADS[head](*fit)
        weight, bias = torch.from_numpy(w), torch.from_numpy(b)
    return [Dense(student_dim, teacher_dim, bias=True, activation_function=torch.nn.Identity(),
                  init_weight=weight, init_bias=bias)]


def normalize_module():
    """A Normalize module: unit-length outputs, as a teacher whose vectors are unit length has."""
    from sentence_transformers.sentence_transformer.modules import Normalize

    return Normalize()

