"""The project's own evaluation: rubric scoring (the rule in ``evals/README.md``) and a loopback runner.

``blueprint eval CASES.json [--out DIR]`` drives :func:`run_eval`; ``evals/README.md`` lists the cases.
"""

from graph.evaluation.runner import (
    ALLOW_ENV,
    LOOPBACK_HOST,
    Generate,
    allow_private_host,
    run_eval,
    serve_page,
)
from graph.evaluation.scoring import (
    SECTIONS,
    CaseScore,
    EvalCase,
    EvalReport,
    SectionScore,
    generic_blueprint,
    load_cases,
    normalize_phrase,
    normalize_text,
    score_blueprint,
)

__all__ = [
    "ALLOW_ENV", "LOOPBACK_HOST", "SECTIONS", "CaseScore", "EvalCase", "EvalReport", "Generate",
    "SectionScore", "allow_private_host", "generic_blueprint", "load_cases", "normalize_phrase",
    "normalize_text", "run_eval", "score_blueprint", "serve_page",
]
