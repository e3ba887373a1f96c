"""The benchmark's and the memory run's pure parts: spreads, texts, CPU per turn, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest

from tools.bench.benchmark import Results, kinds, parse_args
from tools.bench.measure import Spread, cpu_ms_per_turn, cycled, nlu_messages
from tools.bench.memory import checkpoints, verdict
from tools.loadtest.results import Conversation, Turn


def test_a_spread_is_min_median_max_and_prints_the_range_only_when_there_is_one():
    spread = Spread.of([30.0, 10.0, 20.0])
    assert (spread.low, spread.median, spread.high) == (10.0, 20.0, 30.0)
    assert spread.format() == "20 (10-30)"
    assert Spread.of([1.25]).format(2) == "1.25"
    with pytest.raises(ValueError):
        Spread.of([])


def test_nlu_messages_lose_their_entity_annotations(tmp_path: Path):
    line = 'olen [EU-kansalainen]{"entity": "residence_status"} ja [Espoossa](municipality)'
    (tmp_path / "fi.yml").write_text(
        f"nlu:\n- intent: a\n  examples: |\n    - {line}\n    -   verokortti \n",
        encoding="utf-8",
    )
    assert nlu_messages(tmp_path, ["fi"], 5) == ["olen EU-kansalainen ja Espoossa", "verokortti"]


def test_nlu_messages_interleave_the_languages_and_refuse_an_empty_file(tmp_path: Path):
    (tmp_path / "fi.yml").write_text(
        "nlu:\n- intent: a\n  examples: |\n    - yksi\n    - kaksi [Kela](org)\n"
        "- lookup: x\n  examples: |\n    - not an intent example\n",
        encoding="utf-8",
    )
    (tmp_path / "sv.yml").write_text("nlu:\n- intent: a\n  examples: |\n    - ett\n")
    assert nlu_messages(tmp_path, ["fi", "sv"], 5) == ["yksi", "ett", "kaksi Kela", "ett"]
    assert nlu_messages(tmp_path, ["fi", "sv"], 1) == ["yksi", "ett"]
    (tmp_path / "et.yml").write_text("nlu: []\n")
    with pytest.raises(ValueError, match="no NLU examples"):
        nlu_messages(tmp_path, ["et"], 5)


def test_cycled_texts_start_where_asked_and_wrap():
    assert cycled(["a", "b", "c"], 5, start=2) == ["c", "a", "b", "c", "a"]


def test_cpu_per_turn_is_the_difference_per_turn_in_ms():
    per_turn = cpu_ms_per_turn({"rasa": 1.0, "actions": 2.0}, {"rasa": 3.0, "actions": 2.5}, 50)
    assert per_turn == pytest.approx({"rasa": 40.0, "actions": 10.0})
    with pytest.raises(ValueError):
        cpu_ms_per_turn({"rasa": 1.0}, {"rasa": 2.0}, 0)


def test_memory_checkpoints_end_at_the_last_turn():
    assert checkpoints(10_000, 1_000) == [1_000 * i for i in range(1, 11)]
    assert checkpoints(2_500, 1_000) == [1_000, 2_000, 2_500]
    assert checkpoints(40, 100) == [40]
    with pytest.raises(ValueError):
        checkpoints(0, 10)


def test_the_table_shows_median_and_range_beside_the_issue_target():
    results = Results()
    for value in (12.0, 14.0, 13.0):
        results.add("8 users, saturation turns/s", value)
    results.add("50 users p95 ms", 420.0)
    table = results.table().splitlines()
    assert table[2] == "| 8 users, saturation turns/s | 13.0 (12.0-14.0) | >= 28 |"
    assert table[3] == "| 50 users p95 ms | 420 | <= 500 |"


def test_think_time_users_default_by_topology_and_bad_options_are_refused():
    assert parse_args([]).users == 50
    assert parse_args(["--topology"]).users == 100
    with pytest.raises(SystemExit):
        parse_args(["--repeat", "0"])
    with pytest.raises(SystemExit):
        parse_args(["--think", "-1"])


def test_kinds_count_reply_types_and_failed_turns_by_their_error():
    answered = Turn(0, "hello", 0, latency=0.1, replies=[{"text": "Hi!"}])
    timed_out = Turn(1, "tax card", 0, error="TimeoutError: after 30 s")
    conversation = Conversation("u", "rest", turns=[answered, timed_out])
    assert kinds([conversation]) == "error 1, error: TimeoutError: after 30 s 1, text 1"


def test_the_memory_verdict_compares_with_the_targets_and_reports_growth_after_warm_up():
    readings = [
        (0, {"actions": 200.0, "rasa": 636.0}),
        (1_000, {"actions": 386.0, "rasa": 691.0}),
        (2_000, {"actions": 393.0, "rasa": 699.0}),
    ]
    assert verdict(readings) == [
        "actions: 393 MB after 2000 turns (target <= 450: met); +7 MB from 1000 to 2000 turns",
        "rasa: 699 MB after 2000 turns (target <= 600: NOT met); +8 MB from 1000 to 2000 turns",
    ]
    assert verdict(readings[:1]) == [
        "actions: 200 MB after 0 turns (target <= 450: met)",
        "rasa: 636 MB after 0 turns (target <= 600: NOT met)",
    ]
    with pytest.raises(ValueError):
        verdict([])
