"""The Training tab's state: one ``TrainingPanel`` per app (one run at a time, whichever browser tab started it)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from recsys.accounts.principal import Principal
from recsys.evaluation import encoder_comparison as ec
from recsys.evaluation.encoder_comparison import Comparison, EvaluationSize
from recsys.progress import Progress
from recsys.service.taillift import TailLiftService
from recsys.training.encoder_runs import EncoderRun

# (finished run, size, progress) -> the comparison of its version with its parent, both reports stored
Evaluate = Callable[[Principal, EncoderRun, EvaluationSize, Progress], Comparison]


class TrainingPanel:
    def __init__(
        self, service: TailLiftService, evaluate: Evaluate | None = None, ranker_options: dict[str, Any] | None = None
    ) -> None:
        self.service = service
        self.evaluate = evaluate if evaluate is not None else default_evaluator(service)
        self.ranker_options = ranker_options or {}
        self.run: EncoderRun | None = None
        self.evaluation_size: EvaluationSize = ec.QUICK  # the last start's choice
        self.comparison: Comparison | None = None  # the last run's before/after, once evaluated
        self.comparison_status = ""  # progress while evaluating, then how long it took or why it failed
        self.serve_status = ""  # "serve when done": re-encoding / now serving / not served / failed
        self.lock = threading.Lock()  # one start at a time, even with two browser tabs


def default_evaluator(service: TailLiftService) -> Evaluate | None:
    """The fashion suite on the demo data (None when it is absent: no before/after then)."""
    if not service.can_evaluate_encoders():
        return None

    def evaluate(actor: Principal, run: EncoderRun, size: EvaluationSize, progress: Progress) -> Comparison:
        # The admin who started the run; the service checks it may evaluate. The run's MiniLM is the app's.
        return service.compare_encoder(actor, run, size, progress)

    return evaluate
