"""Rendered pages: offline and accessible (CSP, no remote URLs, alt text, heading order), escaped, complete."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from convlens.report.html import (
    build_comparison,
    build_explanations,
    build_run_report,
    render_comparison,
    render_explanations,
    render_run_report,
)

from ._html import check_page
from ._runs import EVIL_CLASS, EVIL_FILE, fake_overlays, write_explain_folder

MB = 1024 * 1024


def test_a_run_report_holds_every_part_of_the_story(small_run):
    view = build_run_report(small_run, overlays=fake_overlays)
    html = render_run_report(view)
    page = check_page(html)
    text = " ".join(page.text)
    for expected in (
        "small_convnet",
        "3,453,121",
        "convlens train",
        "bf16",
        "20 min 34 s",
        "torch 2.14.1",
        "Training curves",
        "best epoch",
        "Evaluation on the test split",
        "Confusion matrix",
        "Top losses on the test split",
        "Augmentation preview",
        "Activations of the first layers",
        "Filter patterns",
        "Skipped files (1)",
        "not an image",
    ):
        assert expected in text, expected
    assert len(page.all("svg")) == 2
    (evaluation,) = view.evaluations
    shown = sum(len(c.images) for c in evaluation.cells.values())
    assert shown == sum(c.count for c in evaluation.cells.values()) == 40 - round(evaluation.accuracy * 40)
    assert all(
        i.overlay_pred and i.overlay_true and i.photo for c in evaluation.cells.values() for i in c.images
    )
    assert len(evaluation.top_losses) == 16
    losses = [t.loss for t in evaluation.top_losses]
    assert losses == sorted(losses, reverse=True)


def test_overlays_are_asked_for_once_with_every_image_shown(small_run):
    calls = []

    def overlays(requests):
        calls.append(list(requests))
        return fake_overlays(requests)

    view = build_run_report(small_run, overlays=overlays)
    assert len(calls) == 1 and len(calls[0]) == len(set(calls[0]))
    wanted = {(r.path, r.class_index) for r in calls[0]}
    records = json.loads((small_run / "predictions_test.json").read_text())["records"]
    wrong = [r for r in records if r["label"] != r["pred"]]
    assert {(r["path"], r["pred"]) for r in wrong} <= wanted and {
        (r["path"], r["label"]) for r in wrong
    } <= wanted
    assert view.notes == []


def test_user_text_is_escaped_everywhere(evil_run):
    html = render_run_report(build_run_report(evil_run, overlays=fake_overlays))
    page = check_page(html)
    assert "<img src=x" not in html and "<script>" not in html and "<i onmouseover" not in html
    text = " ".join(page.text)
    assert EVIL_CLASS in text and EVIL_FILE in text and "run<i onmouseover=alert(1)>" in text


def test_the_book_run_report_stays_under_5_mb(book_run):
    view = build_run_report(book_run, overlays=fake_overlays)
    html = render_run_report(view)
    check_page(html)
    (evaluation,) = view.evaluations
    assert evaluation.count == 1000 and all(c.count > 12 for c in evaluation.cells.values())
    assert [len(c.images) for c in evaluation.cells.values()] == [12, 12]
    assert len(html.encode("utf-8")) < 5 * MB, f"{len(html) / MB:.2f} MB"


def test_missing_files_become_notes_not_errors(tmp_path, small_run):
    empty = tmp_path / "empty"
    empty.mkdir()
    html = render_run_report(build_run_report(empty))
    check_page(html)
    assert "config.json is missing" in html and "history.json is missing" in html

    partial = tmp_path / "partial"
    partial.mkdir()
    for name in ("history.json", "metrics.json"):
        shutil.copy(small_run / name, partial / name)
    (partial / "config.json").write_text("{not json")
    view = build_run_report(partial, overlays=fake_overlays)
    html = render_run_report(view)
    check_page(html)
    assert view.evaluations[0].matrix and not view.evaluations[0].cells
    assert "config.json could not be read" in html and "predictions_test.json is missing" in html


def test_predictions_alone_give_the_matrix(tmp_path, small_run):
    run = tmp_path / "run"
    run.mkdir()
    shutil.copy(small_run / "predictions_test.json", run)
    view = build_run_report(run)
    (evaluation,) = view.evaluations
    assert sum(map(sum, evaluation.matrix)) == 40 and evaluation.accuracy is not None
    check_page(render_run_report(view))


def test_a_comparison_overlays_the_runs_and_tables_their_metrics(small_run, evil_run):
    view = build_comparison([small_run, evil_run, small_run])
    html = render_comparison(view)
    page = check_page(html)
    assert [r.header.name for r in view.runs] == ["scratch", evil_run.name, "scratch (2)"]
    assert len(page.all("svg")) == 2
    text = " ".join(page.text)
    assert "3,453,121" in text and "test acc." in text and evil_run.name in text


def test_an_explanation_folder_shows_methods_side_by_side_and_the_leaderboard(tmp_path, book_photos):
    _, paths = book_photos
    folder = write_explain_folder(tmp_path / "explain", paths[:3] + paths[500:502])
    view = build_explanations(folder)
    html = render_explanations(view)
    page = check_page(html)
    assert [row.method for row in view.leaderboard] == ["gradcampp", "gradcam", "scorecam"]
    assert [m.method for m in view.images[0].methods] == ["gradcampp", "gradcam", "scorecam"]
    assert view.total_images == 5 and all(m.overlay for img in view.images for m in img.methods)
    assert view.images[0].methods[0].scores["deletion_auc"] > 0 and view.images[0].photo is not None
    assert "Faithfulness leaderboard" in " ".join(page.text)


def test_an_explanation_folder_without_summary_still_shows_its_overlays(tmp_path, book_photos):
    _, paths = book_photos
    folder = write_explain_folder(tmp_path / "explain", paths[:2], summary=False)
    view = build_explanations(folder)
    assert not view.leaderboard and [m.method for m in view.images[0].methods] == [
        "gradcam",
        "gradcampp",
        "scorecam",
    ]
    check_page(render_explanations(view))


def test_records_without_files_count_but_ask_for_no_overlay(tmp_path, small_run):
    run = tmp_path / "run"
    shutil.copytree(small_run, run)
    predictions = json.loads((run / "predictions_test.json").read_text())
    wrong = [r for r in predictions["records"] if r["label"] != r["pred"]]
    del wrong[0]["path"]  # a built-in data set has no files
    wrong[1]["path"] = str(tmp_path / "moved-away.jpg")
    (run / "predictions_test.json").write_text(json.dumps(predictions))
    asked = []
    view = build_run_report(run, overlays=lambda requests: asked.extend(requests) or fake_overlays(requests))
    assert all(Path(r.path).is_file() for r in asked)
    names = [i.name for c in view.evaluations[0].cells.values() for i in c.images]
    assert any(n.startswith("image #") for n in names) and "moved-away.jpg" in names
    missing = [i for c in view.evaluations[0].cells.values() for i in c.images if i.photo is None]
    assert len(missing) == 2 and all(i.overlay_pred is None for i in missing)
    check_page(render_run_report(view))
