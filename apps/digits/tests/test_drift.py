import numpy as np
from mlops_digits.drift import DriftWindow, TrainingStats


def test_inputs_like_the_training_data_score_low_and_drifted_ones_high(digits_split):
    X_train, X_test, _, _ = digits_split
    stats = TrainingStats.from_data(X_train)
    assert stats.score(X_test[:300]) < 0.1
    assert stats.score(16 - X_test[:300]) > 0.5  # inverted images
    assert stats.score(np.clip(X_test[:300] + 3, 0, 16)) > 0.5  # brighter
    assert 0 <= stats.score(np.full((300, 64), 1e6)) <= 1  # a distance, bounded


def test_statistics_survive_their_json_form(digits_split):
    X_train, X_test, _, _ = digits_split
    stats = TrainingStats.from_data(X_train)
    again = TrainingStats(**{k: v for k, v in vars(stats).items()})
    path_text = stats.to_json()
    import json

    data = json.loads(path_text)
    assert len(data["edges"]) == 64 and len(data["shares"]) == 64
    assert again.score(X_test[:100]) == stats.score(X_test[:100])


def test_window_keeps_the_last_rows_and_says_nothing_below_its_minimum(digits_split):
    X_train, X_test, _, _ = digits_split
    window = DriftWindow(TrainingStats.from_data(X_train), size=100, min_rows=50)
    window.add(16 - X_test[:49])
    assert len(window) == 49 and window.score() == 0.0
    window.add(16 - X_test[49:60])
    assert window.score() > 0.5
    for start in range(0, 230, 23):  # wraps the ring several times with batches that straddle its end
        window.add(X_test[start : start + 23])
    assert len(window) == 100
    assert window.score() < 0.15  # only the recent, undrifted rows are left
