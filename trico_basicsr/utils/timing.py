"""Wall-clock timing for the benchmark scripts: CUDA synchronised, medians, the device's name."""
import statistics
import time

import torch


def synchronize():
    """Wait for queued CUDA work, so a timer measures the work and not only its launch (no-op on CPU)."""
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def median_seconds(fn, repeats, warmup=1):
    """Median seconds of ``fn()`` over ``repeats`` calls after ``warmup`` untimed ones, synchronised around each."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        synchronize()
        start = time.perf_counter()
        fn()
        synchronize()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def device_name():
    """``'NVIDIA H100 ...'`` on a GPU, else ``'CPU (N threads)'``."""
    if torch.cuda.is_available():
        return torch.cuda.get_device_name()
    return f'CPU ({torch.get_num_threads()} threads)'
