"""The top-level API: lazy re-exports, and ``convlens.train`` both a package and a function."""

import torch

import convlens


def test_every_name_in_all_resolves():
    assert set(convlens.__all__) >= {"ConvlensError", *convlens._SUBPACKAGES, *convlens._EXPORTS}
    for name in convlens.__all__:
        assert getattr(convlens, name) is not None, name


def test_train_is_a_package_and_callable(tmp_path):
    from convlens.train import TrainConfig

    assert convlens.train.TrainConfig is TrainConfig
    run = convlens.train(
        data="digits",
        model="mnist_cnn",
        channels=1,
        image_size=28,
        batch_size=128,
        epochs=1,
        optimizer="adam",
        lr=1e-3,
        out=str(tmp_path / "run"),
        progress=False,
    )
    assert len(run.history) == 1
    assert (tmp_path / "run" / "model.safetensors").exists()
    net, config = convlens.load_run(run.out)
    assert net(torch.zeros(2, 1, 28, 28)).shape == (2, 10)
    assert config["classes"] == [str(i) for i in range(10)]


def test_unknown_attribute_is_an_attribute_error():
    import pytest

    with pytest.raises(AttributeError, match="no_such_thing"):
        convlens.no_such_thing  # noqa: B018
