"""`service.report` on runs that convlens trained and evaluated: the overlays are real Grad-CAM, for the right class.

The oracle is a Grad-CAM written out with autograd (``_real.hand_gradcam``), not convlens.explain.
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from matplotlib import colormaps

from convlens import service
from convlens.errors import ConfigError
from convlens.explain.overlay import INTENSITY
from convlens.report.html._files import display_name
from convlens.report.html.build_gallery import CELL_SIDE
from convlens.report.html.images import thumbnail
from convlens.service.reporting import gradcam_overlays

from ._html import Page, check_page
from ._real import coarse, decode_uri, expected_overlay, mean_difference, wrong_records


def _loaded(run):
    return service.load_model(checkpoint=run, device="cpu")


def _images_by_alt(html: str) -> dict[str, str]:
    return {img["alt"]: img["src"] for img in Page(html).all("img")}


def assert_shows(shown: np.ndarray, right: np.ndarray, wrong: np.ndarray) -> None:
    """``shown`` (decoded from the page) is ``right``, not ``wrong``. The tiny run's photos are noise, which JPEG
    does not keep, so 6 x 6 means are compared: there the two overlays differ by ~45 levels, JPEG by ~1."""
    assert mean_difference(coarse(shown), coarse(right)) < 4
    assert mean_difference(coarse(shown), coarse(wrong)) > 10


def colour_step(cmap: str = "jet") -> int:
    """The most one level of the map's colour table moves an overlay's channel: a heat value within float error of
    a level boundary (batch 4 against the oracle's batch 1 sums in another order on some CPUs) may land either side."""
    table = np.round(colormaps[cmap](np.linspace(0, 1, colormaps[cmap].N))[:, :3] * 255)
    return int(np.ceil(INTENSITY * np.abs(np.diff(table, axis=0)).max())) + 1  # + 1: the overlay truncates


def assert_same_overlay(shown: np.ndarray, expected: np.ndarray, where: object) -> None:
    """Equal up to rounding, except a few pixels one colour level apart (never more than one level)."""
    difference = np.abs(shown.astype(int) - expected.astype(int))
    assert difference.max() <= colour_step(), where
    assert (difference > 1).mean() < 0.01, where


def _name_and_classes(run) -> tuple[str, list[str]]:
    """The page's name of the first wrong test photo (relative to the data folder), and the class names."""
    config = json.loads((run / "config.json").read_text())
    path = wrong_records(run)[0]["path"]
    return display_name(path, config["train"]["data"]), config["classes"]


def test_overlays_are_gradcam_of_the_predicted_and_of_the_true_class(real_run):
    loaded = _loaded(real_run)
    assert loaded.outputs == 1, "the tiny run is a single-logit binary model"
    wrong = wrong_records(real_run)
    assert wrong, "the mislabelled test photos make the model err"
    requests = [(r["path"], c) for r in wrong[:3] for c in (r["pred"], r["label"])]
    answers = gradcam_overlays(loaded, requests, batch_size=4)  # several batches
    for path, cls in requests:
        expected = expected_overlay(loaded, path, cls)
        assert answers[(path, cls)].shape == expected.shape
        assert_same_overlay(answers[(path, cls)], expected, (path, cls))
    r = wrong[0]
    pred, true = answers[(r["path"], r["pred"])], answers[(r["path"], r["label"])]
    assert mean_difference(pred, true) > 5, "class 0 is explained by -z, so its map is not the map of class 1"


def test_unreadable_photos_get_no_overlay(real_run, tmp_path):
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image")
    path = wrong_records(real_run)[0]["path"]
    answers = gradcam_overlays(_loaded(real_run), [(str(broken), 0), (path, 1)])
    assert answers[(str(broken), 0)] is None and answers[(path, 1)] is not None


def test_the_page_embeds_those_overlays_in_the_cells_and_top_losses(real_run, tmp_path):
    result = service.report(service.ReportOptions([real_run], out=tmp_path / "r.html"))
    html = result.path.read_text()
    check_page(html)
    assert result.kind == "run" and 0 < result.bytes < 2_000_000
    by_alt = _images_by_alt(html)
    r = wrong_records(real_run)[0]
    loaded, (name, classes) = _loaded(real_run), _name_and_classes(real_run)
    for cls, other in ((r["pred"], r["label"]), (r["label"], r["pred"])):
        alt = f"Grad-CAM (jet) of {name} for class {classes[cls]}"
        assert alt in by_alt, sorted(by_alt)[:6]
        shown = decode_uri(by_alt[alt])
        right = np.asarray(thumbnail(expected_overlay(loaded, r["path"], cls), CELL_SIDE), np.float32)
        wrong = np.asarray(thumbnail(expected_overlay(loaded, r["path"], other), CELL_SIDE), np.float32)
        assert shown.shape == right.shape
        assert_shows(shown, right, wrong)
    assert "Top losses on the test split" in html and "Confusion matrix" in html


def test_viridis_draws_the_overlays_and_says_so(real_run, tmp_path):
    result = service.report(service.ReportOptions([real_run], out=tmp_path / "v.html", cmap="viridis"))
    html = result.path.read_text()
    assert "Grad-CAM (viridis) for the predicted class" in html and "Grad-CAM (jet)" not in html
    r, (name, classes) = wrong_records(real_run)[0], _name_and_classes(real_run)
    shown = decode_uri(_images_by_alt(html)[f"Grad-CAM (viridis) of {name} for class {classes[r['pred']]}"])
    loaded = _loaded(real_run)
    viridis = np.asarray(
        thumbnail(expected_overlay(loaded, r["path"], r["pred"], "viridis"), CELL_SIDE), np.float32
    )
    jet = np.asarray(thumbnail(expected_overlay(loaded, r["path"], r["pred"], "jet"), CELL_SIDE), np.float32)
    assert_shows(shown, viridis, jet)


def test_without_cams_the_page_shows_photos_only_and_needs_no_model(real_run, tmp_path, monkeypatch):
    from convlens.service import sources

    monkeypatch.setattr(
        sources, "load_model", lambda *a, **k: pytest.fail("--no-cams must not load the model")
    )
    html = service.report(
        service.ReportOptions([real_run], out=tmp_path / "n.html", cams=False)
    ).path.read_text()
    check_page(html)
    page = Page(html)
    assert (
        not [img for img in page.all("img") if img["alt"].startswith("Grad-CAM")] and "no overlay" not in html
    )
    assert "made without Grad-CAM overlays" in html and "each with its Grad-CAM" not in html


@pytest.mark.parametrize("options", [{"cmap": "rainbow"}, {"top_losses": -1}, {"per_cell": 0}, {"paths": []}])
def test_bad_options_fail_before_any_work(real_run, tmp_path, options):
    settings = {"paths": [real_run], "out": tmp_path / "x.html", **options}
    with pytest.raises(ConfigError):
        service.report(service.ReportOptions(**settings))
    assert not (tmp_path / "x.html").exists()


def test_a_features_run_is_explained_through_its_base(features_run, tmp_path):
    loaded = _loaded(features_run)
    r = wrong_records(features_run)[0]
    answers = gradcam_overlays(loaded, [(r["path"], r["pred"]), (r["path"], r["label"])])
    for cls in (r["pred"], r["label"]):
        # batched vs one-photo float sums: a level or two on a few pixels of a barely trained head's map
        diff = np.abs(answers[(r["path"], cls)].astype(int) - expected_overlay(loaded, r["path"], cls))
        assert diff.max() <= 2 and diff.mean() < 0.05, (diff.max(), diff.mean())
    html = service.report(service.ReportOptions([features_run], out=tmp_path / "f.html")).path.read_text()
    check_page(html)
    assert "efficientnet_lite0" in html and html.count("Grad-CAM (jet) of") >= 2


def test_a_comparison_of_real_runs(real_run, features_run, tmp_path):
    result = service.report(service.ReportOptions([real_run, features_run], out=tmp_path / "c.html"))
    html = result.path.read_text()
    check_page(html)
    assert result.kind == "comparison" and "2 runs: scratch, features" in html
    assert len(Page(html).all("svg")) == 2


def test_an_explanation_folder_made_by_explain(real_run, tiny_data, tmp_path):
    out = tmp_path / "explained"
    options = service.ExplainOptions(
        tiny_data / "test" / "cat",
        out,
        checkpoint=real_run,
        methods=["gradcam", "gradcam++"],
        figures=False,
        evaluate=True,
        progress=False,
    )
    explained = service.explain(options)
    assert explained.summary["leaderboard"] and explained.report is None  # no report.html yet: none written
    result = service.report(service.ReportOptions([out]))
    html = result.path.read_text()
    check_page(html)
    assert result.kind == "explanations" and result.path == out / "report.html"
    assert "Faithfulness leaderboard" in html and "gradcam++" in html
    assert len([a for a in _images_by_alt(html) if "overlay of" in a]) == len(explained.summary["images"])
