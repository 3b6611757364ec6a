"""The report kept up to date by the other actions: train --report writes it, evaluate / explain / activations /
filters refresh it when it exists, with the options it was written with."""

from __future__ import annotations

import json

import pytest

from convlens import service
from convlens.cli import main
from convlens.service.reporting import recorded_options
from convlens.train import TrainConfig

from ..train.conftest import make_image_folder
from ._html import check_page
from ._real import copy_run, wrong_records


def _quick(data, out, **options) -> TrainConfig:
    settings = {
        "model": "mnist_cnn",
        "image_size": 32,
        "batch_size": 4,
        "epochs": 1,
        "lr": 1e-3,
        "progress": False,
    }
    return TrainConfig(data=str(data), out=str(out), **{**settings, **options})


def test_train_report_writes_the_page_and_evaluate_refreshes_it(tmp_path):
    data = make_image_folder(tmp_path / "data")
    run = service.train(_quick(data, tmp_path / "run", report=True))
    assert run.report == run.out / "report.html"
    first = run.report.read_text()
    check_page(first)
    assert "Training curves" in first and "Evaluation on the test split" not in first
    assert json.loads((run.out / "config.json").read_text())["train"]["report"] is True

    reporter = service.CollectingReporter()
    evaluated = service.evaluate(service.EvaluateOptions(run.out, progress=False), reporter)
    assert evaluated.report == run.report and run.report in evaluated.files
    assert "Evaluation on the test split" in run.report.read_text()
    assert ("info", f"refreshed {run.report}") in reporter.messages


def test_without_a_page_evaluate_writes_none(real_run, tmp_path):
    run = copy_run(real_run, tmp_path / "run")
    (run / "report.html").unlink(missing_ok=True)
    result = service.evaluate(service.EvaluateOptions(run, progress=False))
    assert result.report is None and not (run / "report.html").exists()


def test_a_refresh_keeps_the_options_the_page_was_written_with(real_run, tmp_path):
    run = copy_run(real_run, tmp_path / "run")
    service.report(service.ReportOptions([run], cmap="viridis", top_losses=3, per_cell=2))
    service.evaluate(service.EvaluateOptions(run, progress=False))
    html = (run / "report.html").read_text()
    assert recorded_options(html) == {"cmap": "viridis", "cams": True, "top_losses": 3, "per_cell": 2}
    assert "Grad-CAM (viridis)" in html and "The 3 images with the largest loss" in html


def test_evaluate_can_leave_the_page_alone(real_run, tmp_path):
    run = copy_run(real_run, tmp_path / "run")
    service.report(service.ReportOptions([run]))
    before = (run / "report.html").read_bytes()
    result = service.evaluate(service.EvaluateOptions(run, progress=False, refresh_report=False))
    assert result.report is None and (run / "report.html").read_bytes() == before


def test_a_report_html_convlens_did_not_write_is_left_alone(real_run, tmp_path):
    run = copy_run(real_run, tmp_path / "run")
    (run / "report.html").write_text("<p>my own notes</p>")
    reporter = service.CollectingReporter()
    assert service.evaluate(service.EvaluateOptions(run, progress=False), reporter).report is None
    assert (run / "report.html").read_text() == "<p>my own notes</p>"
    assert any("not written by convlens" in text for level, text in reporter.messages if level == "warning")


def test_a_comparison_written_into_a_run_folder_is_not_replaced_by_its_run_page(
    real_run, features_run, tmp_path
):
    run = copy_run(real_run, tmp_path / "run")
    service.report(service.ReportOptions([run, features_run], out=run / "report.html"))
    before = (run / "report.html").read_bytes()
    assert service.evaluate(service.EvaluateOptions(run, progress=False)).report is None
    assert (run / "report.html").read_bytes() == before


def test_a_failed_refresh_is_a_warning_not_a_failed_evaluation(real_run, tmp_path, monkeypatch):
    from convlens.errors import DataError
    from convlens.service import reporting

    run = copy_run(real_run, tmp_path / "run")
    service.report(service.ReportOptions([run], cams=False))

    def broken(options):
        raise DataError("the disk is on fire")

    monkeypatch.setattr(reporting, "render", broken)
    reporter = service.CollectingReporter()
    result = service.evaluate(service.EvaluateOptions(run, progress=False), reporter)
    assert result.metrics["count"] == 12 and result.report is None
    assert any("could not be refreshed (the disk is on fire)" in text for _, text in reporter.messages)


def test_report_never_blocks_a_resume(tmp_path):
    data = make_image_folder(tmp_path / "data")
    service.train(_quick(data, tmp_path / "run", epochs=1))
    resumed = service.train(_quick(data, tmp_path / "run", epochs=2, resume=True, report=True))
    assert len(resumed.history) == 2 and resumed.report is not None and resumed.report.is_file()


def test_explain_refreshes_the_page_of_its_out_folder(real_run, tiny_data, tmp_path):
    out = tmp_path / "explained"
    options = service.ExplainOptions(
        tiny_data / "test" / "dog", out, checkpoint=real_run, figures=False, progress=False
    )
    assert service.explain(options).report is None
    service.report(service.ReportOptions([out]))
    options.methods = ["gradcam", "hirescam"]
    result = service.explain(options)
    assert result.report == out / "report.html" and "hirescam" in result.report.read_text()


def test_activations_and_filters_into_the_run_refresh_its_page(real_run, tiny_data, tmp_path):
    run = copy_run(real_run, tmp_path / "run")
    service.report(service.ReportOptions([run], cams=False))
    photo = wrong_records(run)[0]["path"]
    service.activations(service.ActivationsOptions(photo, run / "activations", checkpoint=run))
    html = (run / "report.html").read_text()
    assert "Activations of the first layers" in html and "Filter patterns" not in html
    service.filters(service.FiltersOptions(run / "filters", checkpoint=run, count=4, size=64, steps=2))
    html = (run / "report.html").read_text()
    check_page(html)
    assert "Filter patterns" in html and recorded_options(html)["cams"] is False


def test_cli_train_report_then_report_again_with_viridis(tmp_path, capsys):
    data = make_image_folder(tmp_path / "data")
    out = tmp_path / "run"
    config = tmp_path / "train.yaml"
    config.write_text("model: mnist_cnn\nimage-size: 32\nbatch-size: 4\nepochs: 1\nreport: true\n")
    assert main(["train", str(data), "--out", str(out), "--config", str(config), "--no-progress"]) == 0
    assert f"report: {out / 'report.html'}" in capsys.readouterr().out
    assert main(["evaluate", str(out), "--no-progress"]) == 0
    assert "Evaluation on the test split" in (out / "report.html").read_text()
    page = tmp_path / "viridis.html"
    assert main(["report", str(out), "--cmap", "viridis", "--out", str(page)]) == 0
    assert "run report: " in capsys.readouterr().out
    assert recorded_options(page.read_text())["cmap"] == "viridis"


@pytest.mark.parametrize("argv", [["--cmap", "rainbow"], ["--per-cell", "0"]])
def test_cli_report_refuses_bad_options(real_run, tmp_path, argv, capsys):
    assert main(["report", str(real_run), "--out", str(tmp_path / "x.html"), *argv]) != 0
    assert not (tmp_path / "x.html").exists()
