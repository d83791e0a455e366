"""Constants shared by model files, the SDK, the platform and the client.

The string values equal the names, as in the original Rafiki, so that model files and client
scripts written for it keep working.
"""


class _Names:
    """A namespace of string constants that can be listed."""

    @classmethod
    def values(cls) -> list[str]:
        return [v for k, v in vars(cls).items() if not k.startswith("_") and isinstance(v, str)]


class BudgetOption(_Names):
    GPU_COUNT = "GPU_COUNT"
    TIME_HOURS = "TIME_HOURS"
    MODEL_TRIAL_COUNT = "MODEL_TRIAL_COUNT"


#: Budget values used when a job is created without them.
DEFAULT_BUDGET = {
    BudgetOption.TIME_HOURS: 0.1,
    BudgetOption.GPU_COUNT: 0,
    BudgetOption.MODEL_TRIAL_COUNT: -1,
}


class InferenceBudgetOption(_Names):
    GPU_COUNT = "GPU_COUNT"


class ModelAccessRight(_Names):
    PUBLIC = "PUBLIC"
    PRIVATE = "PRIVATE"


class TrainJobStatus(_Names):
    STARTED = "STARTED"
    RUNNING = "RUNNING"
    STOPPED = "STOPPED"
    ERRORED = "ERRORED"


class TrialStatus(_Names):
    PENDING = "PENDING"
    RUNNING = "RUNNING"
    ERRORED = "ERRORED"
    COMPLETED = "COMPLETED"


class InferenceJobStatus(_Names):
    STARTED = "STARTED"
    RUNNING = "RUNNING"
    ERRORED = "ERRORED"
    STOPPED = "STOPPED"


class UserType(_Names):
    SUPERADMIN = "SUPERADMIN"
    ADMIN = "ADMIN"
    MODEL_DEVELOPER = "MODEL_DEVELOPER"
    APP_DEVELOPER = "APP_DEVELOPER"


class ModelDependency(_Names):
    TENSORFLOW = "tensorflow"
    KERAS = "Keras"
    SCIKIT_LEARN = "scikit-learn"
    TORCH = "torch"
    TORCHVISION = "torchvision"
    SINGA = "singa"
    XGBOOST = "xgboost"
    DS_CTCDECODER = "ds-ctcdecoder"


class TaskType(_Names):
    """The tasks whose dataset formats the platform validates. Any other task name is a
    custom task with an opaque dataset file."""

    IMAGE_CLASSIFICATION = "IMAGE_CLASSIFICATION"
    POS_TAGGING = "POS_TAGGING"
    TABULAR_CLASSIFICATION = "TABULAR_CLASSIFICATION"
    TABULAR_REGRESSION = "TABULAR_REGRESSION"
    SPEECH_RECOGNITION = "SPEECH_RECOGNITION"


class DatasetType(_Names):
    IMAGE_FILES = "IMAGE_FILES"
    CORPUS = "CORPUS"
    TABULAR = "TABULAR"
    AUDIO_FILES = "AUDIO_FILES"


#: The dataset type each known task trains on.
TASK_DATASET_TYPE = {
    TaskType.IMAGE_CLASSIFICATION: DatasetType.IMAGE_FILES,
    TaskType.POS_TAGGING: DatasetType.CORPUS,
    TaskType.TABULAR_CLASSIFICATION: DatasetType.TABULAR,
    TaskType.TABULAR_REGRESSION: DatasetType.TABULAR,
    TaskType.SPEECH_RECOGNITION: DatasetType.AUDIO_FILES,
}
