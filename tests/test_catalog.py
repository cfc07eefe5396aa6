import pytest

from nanokit.catalog import GPUS, VARIANTS, custom_gpu, get_gpu, get_variant
from nanokit.errors import ConfigError


def test_variants_have_hub_ids():
    assert [v.hub_id for v in VARIANTS.values()] == [
        "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16",
        "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8",
        "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-NVFP4",
    ]
    assert get_variant("nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-FP8").key == "fp8"


def test_hardware_list_and_capabilities():
    assert {"h100", "h200", "b200", "gb200", "a100", "l40s", "rtx-pro-6000", "dgx-spark"} <= set(GPUS)
    assert get_gpu("H200 141GB").memory_gib == pytest.approx(140.4)
    assert get_gpu("b200").is_blackwell and not get_gpu("h100").is_blackwell
    assert get_gpu("l40s").supports_fp8 and not get_gpu("a100").supports_fp8
    assert get_gpu("dgx-spark").unified_memory


def test_custom_gpu():
    gpu = get_gpu("custom:96:9.0")
    assert gpu.memory_gib == 96 and gpu.compute_capability == (9, 0)
    assert custom_gpu(24, "8.6").compute_capability_text == "8.6"


@pytest.mark.parametrize("bad", ["tpu", "custom:lots:9.0", "custom:96", "custom:96:nine"])
def test_unknown_gpu_is_a_sentence(bad):
    with pytest.raises(ConfigError, match=r"\.$"):
        get_gpu(bad)
