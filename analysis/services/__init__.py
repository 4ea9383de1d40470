"""The use cases of PROMISE (writes). Views, the API, the admin, commands and tasks all
call these, by the names below; each module holds one part of the work.

    datasets      upload, profile, read again, delete
    runs          start, sample, rank, finish now, fail, cancel, retry, delete
    training      one candidate's search, claimed by one worker at a time
    second_round  the time the first round left, for the searches that can improve
    confirmation  scoring a sampled run's models on the rest of the file
    files         the files rows own, removed once the rows are gone; scored files
    users         delete an account with everything it stored
    exports       the rendered files and the stored zip of a trained candidate; delete,
                  rebuild

Celery canvases and sending tasks live in analysis/workflow.py, which these call.
"""

from ..refusals import UNEXPECTED_ERROR, ServiceError
from .confirmation import CONFIRMED_RANKS, candidate_confirm, run_confirm, run_confirm_best
from .datasets import (
    dataset_create_from_path,
    dataset_create_from_upload,
    dataset_delete,
    dataset_profile,
    dataset_rename,
    dataset_reprofile,
    dataset_upload,
)
from .exports import export_build, export_delete, export_files, export_rebuild
from .files import batch_delete
from .runs import (
    run_cancel,
    run_delete,
    run_fail,
    run_finish,
    run_prepare,
    run_rank,
    run_retry,
    run_start,
)
from .second_round import TRAINING_WORKERS, candidate_extend, run_second_round
from .training import CANDIDATE_ATTEMPTS, candidate_train
from .users import user_delete

__all__ = [
    "CANDIDATE_ATTEMPTS",
    "CONFIRMED_RANKS",
    "TRAINING_WORKERS",
    "UNEXPECTED_ERROR",
    "ServiceError",
    "batch_delete",
    "candidate_confirm",
    "candidate_extend",
    "candidate_train",
    "dataset_create_from_path",
    "dataset_create_from_upload",
    "dataset_delete",
    "dataset_profile",
    "dataset_rename",
    "dataset_reprofile",
    "dataset_upload",
    "export_build",
    "export_delete",
    "export_files",
    "export_rebuild",
    "run_cancel",
    "run_confirm",
    "run_confirm_best",
    "run_delete",
    "run_fail",
    "run_finish",
    "run_prepare",
    "run_rank",
    "run_retry",
    "run_second_round",
    "run_start",
    "user_delete",
]
