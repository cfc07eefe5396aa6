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


class FakeNVML:
    """The five pynvml calls local_gpus makes, for two H200s; `fail` makes nvmlInit raise as without a driver."""

    class NVMLError(Exception):
        pass

    def __init__(self, names=(b"NVIDIA H200", "NVIDIA H200"), fail=False):
        self.names, self.fail, self.shut = list(names), fail, False

    def nvmlInit(self):
        if self.fail:
            raise self.NVMLError("NVML Shared Library Not Found")

    def nvmlShutdown(self):
        self.shut = True

    def nvmlDeviceGetCount(self):
        return len(self.names)

    def nvmlDeviceGetHandleByIndex(self, index):
        return index

    def nvmlDeviceGetName(self, handle):
        return self.names[handle]

    def nvmlDeviceGetMemoryInfo(self, handle):
        return type("Memory", (), {"total": 143771 * 2**20})()  # what nvidia-smi showed on an H200: 143,771 MiB

    def nvmlDeviceGetCudaComputeCapability(self, handle):
        return (9, 0)


def test_local_gpus_reads_the_driver_into_catalog_records():
    from nanokit.catalog import local_gpus
    from nanokit.launch import LaunchSpec

    nvml = FakeNVML()
    gpus = local_gpus(nvml)
    assert [g.name for g in gpus] == ["NVIDIA H200", "NVIDIA H200"] and nvml.shut
    assert gpus[0].memory_gib == pytest.approx(140.4, abs=0.01) and gpus[0].compute_capability == (9, 0)
    assert LaunchSpec(gpu=gpus[0]).gpu_info.supports_fp8


def test_local_gpus_without_a_driver_is_an_empty_list():
    from nanokit.catalog import local_gpus

    assert local_gpus(FakeNVML(fail=True)) == []


def test_local_gpus_on_this_machine_agrees_with_nvidia_smi():
    """The real NVML path: [] on a machine without the driver, otherwise the GPUs nvidia-smi lists."""
    import shutil
    import subprocess

    from nanokit.catalog import local_gpus

    gpus = local_gpus()
    if shutil.which("nvidia-smi") is None:
        assert gpus == []
        return
    names = subprocess.run(["nvidia-smi", "--query-gpu=name", "--format=csv,noheader"], capture_output=True,
                           text=True, check=True).stdout.split("\n")
    assert [g.name for g in gpus] == [n.strip() for n in names if n.strip()]
