"""Reject misspelt option keys with a message that lists the valid ones (BasicSR ignores them silently)."""
import difflib


def check_keys(options, allowed, where):
    """Raise ``KeyError`` if ``options`` has a key outside ``allowed``.

    Args:
        options (Mapping): The option block to check.
        allowed (Iterable[str]): Valid keys.
        where (str): Where the block sits, for the message (e.g. ``'datasets.train'``).
    """
    allowed = sorted(set(allowed))
    unknown = [key for key in options if key not in allowed]
    if unknown:
        hints = []
        for key in unknown:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hints.append(f"'{key}'" + (f" (did you mean '{close[0]}'?)" if close else ''))
        raise KeyError(f"{where}: unknown option {', '.join(hints)}. Valid keys: {', '.join(allowed)}.")


def require_keys(options, required, where):
    """Raise ``KeyError`` naming every key of ``required`` missing from ``options``."""
    missing = [key for key in required if key not in options]
    if missing:
        raise KeyError(f"{where}: missing required option(s) {', '.join(missing)}.")


def check_arch_options(net_opt, where='network_g'):
    """Fail early, listing the valid arguments, when ``network_g`` has a key its arch does not take."""
    from trico_basicsr.archs.arch_util import arch_arguments
    params = arch_arguments(net_opt['type'])
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        check_keys({k: v for k, v in net_opt.items() if k != 'type'}, [k for k in params if k != 'self'],
                   f"{where} ({net_opt['type']})")
