# Runs the pure-module cases under MicroPython (no pytest there): every test_* function of each module,
# then one closing line "N passed, N failed". Started by test_micropython.py with MICROPYPATH set.
import sys

MODULES = ("test_rules", "test_command", "test_strictjson", "test_debounce", "test_blink", "test_queues", "test_thermo",
           "test_backoff", "test_progress", "test_broker_tls", "test_vectors")

passed = failed = 0
for name in MODULES:
    mod = __import__(name)
    for attr in sorted(dir(mod)):
        if not attr.startswith("test_"):
            continue
        try:
            getattr(mod, attr)()
            passed += 1
        except Exception as e:  # report every failing case, keep going
            failed += 1
            print("FAIL %s.%s: %r" % (name, attr, e))
            sys.print_exception(e)
print("micropython: %d passed, %d failed" % (passed, failed))
sys.exit(1 if failed else 0)
