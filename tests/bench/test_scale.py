"""The scale bench's core on 500 tickets, SQLite only: the generated CSV imports with
no bad row through `ticketbot import`, and every query shape, timed over HTTP against a real
`ticketbot serve`, answers 200 with the expected items (count, total, filters, words, order).
A bench whose answers are wrong, empty or refused would time nothing worth reporting."""

from __future__ import annotations

import csv

from bench.scale import DEPARTMENTS, PAGE, STATUSES, generate, plan, run_size, write_files

SIZE = 500


def test_the_generator_is_deterministic_and_varied():
    first, again = list(generate(SIZE, seed=5)), list(generate(SIZE, seed=5))
    assert first == again
    assert first != list(generate(SIZE, seed=6))
    assert len({t.external_id for t in first}) == SIZE
    assert len({t.title for t in first}) > SIZE * 0.6
    assert {t.department for t in first} == set(DEPARTMENTS)
    assert {t.status for t in first} == set(STATUSES)
    assert sum(t.assignee is None for t in first) > SIZE * 0.1
    assert sorted(t.created_at for t in first) == [t.created_at for t in first]
    span = first[-1].created_at - first[0].created_at
    assert span.days > 2 * 365


def test_every_shape_answers_right_on_an_imported_csv(tmp_path):
    files = write_files(tmp_path, SIZE)
    tickets, extras, stats = files
    with open(tickets, newline="", encoding="utf-8") as handle:
        assert sum(1 for _ in csv.reader(handle)) == SIZE + 1

    run = run_size("sqlite", SIZE, files, tmp_path, requests=4, max_seconds=5)

    assert run.imported["imported"] == SIZE
    assert run.imported["bad_rows"] == 0, run.imported["bad"]
    assert run.disk_bytes > 0
    shapes = plan(stats)
    assert [timing.shape for timing in run.timings] == [shape.name for shape in shapes]
    for timing in run.timings:
        assert len(timing.latencies) == 4, timing.shape
        assert timing.wrong == 0, (timing.shape, dict(timing.problems))
    # The checks can fail: each list shape expects items somewhere (a filter that matched
    # nothing would check no item), a rare word is rare, a word matching nothing finds nothing.
    by_name = {shape.name: shape for shape in shapes}
    for shape in shapes:
        if shape.requests and shape.name != "q matching nothing":
            assert any(r.items or r.ticket_id for r in shape.requests), shape.name
    assert all(0 < r.count < PAGE for r in by_name["q rare word"].requests)
    assert all(r.items == 0 for r in by_name["q matching nothing"].requests)
