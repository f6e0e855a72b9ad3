"""benchmarks.common: timing, the command line a report records, the score cache."""
import json
import sys

from benchmarks.common import ROOT, ScoreCache, command_line, device_name, median_seconds


def test_median_seconds_runs_warmup_then_repeats_and_names_the_device():
    calls = []
    seconds = median_seconds(lambda: calls.append(1), repeats=3, warmup=2)
    assert len(calls) == 5 and 0 <= seconds < 1
    assert 'CPU' in device_name() or 'NVIDIA' in device_name()


def test_a_benchmark_module_records_the_command_that_reruns_it(monkeypatch):
    monkeypatch.setattr(sys, 'argv', [f'{ROOT}/benchmarks/inference.py', '--threads', '2'])
    assert command_line() == 'python -m benchmarks.inference --threads 2'
    monkeypatch.setattr(sys, 'argv', [f'{ROOT}/scripts/enhance.py', '-i', 'x'])
    assert command_line() == 'python scripts/enhance.py -i x'


def test_score_cache_computes_once_and_keeps_entries_another_process_added(tmp_path):
    path = tmp_path / 'scores.json'
    cache = ScoreCache(str(path))
    calls = []
    assert cache.get('a', lambda: calls.append(1) or 1.5) == 1.5
    assert cache.get('a', lambda: calls.append(1) or 9.0) == 1.5 and calls == [1]
    path.write_text(json.dumps({**json.loads(path.read_text()), 'b': 2.0}))  # another process
    cache.get('c', lambda: 3.0)
    assert json.loads(path.read_text()) == {'a': 1.5, 'b': 2.0, 'c': 3.0}
    assert (cache.hits, cache.misses) == (1, 2)
