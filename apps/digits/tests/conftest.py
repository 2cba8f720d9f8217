"""A trained model for the application's tests, built in memory (no MLflow)."""

import numpy as np
import pytest
from mlops_digits import data
from mlops_digits.drift import TrainingStats
from mlops_digits.model_store import LoadedModel
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


@pytest.fixture(scope="session")
def digits_split():
    X, y = data.load()
    return data.split(X, y, seed=0)


@pytest.fixture(scope="session")
def model(digits_split):
    X_train, _X_test, y_train, _y_test = digits_split
    estimator = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000)).fit(
        X_train, y_train
    )
    return LoadedModel(
        "digits", "7", "run-1", estimator, TrainingStats.from_data(X_train), np.asarray(estimator.classes_)
    )
