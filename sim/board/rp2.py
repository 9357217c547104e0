"""The `rp2` module of the virtual board: the BOOTSEL button, which the host drives like a pin
(`sim pins BOOTSEL=1` holds it down, `--release BOOTSEL` lets go), and the Wi-Fi country.

PIO (`PIO`, `StateMachine`, `asm_pio`), `DMA` and `Flash` are not simulated: naming one ends the
program with one line saying so (see docs/virtual-board.md), as soon as it is reached, at the
`from rp2 import ...` or the `@rp2.asm_pio(...)` of a program's definition.
"""

import _simboard

_PIO = ("PIO", "StateMachine", "asm_pio", "asm_pio_encode", "PIOASMError")


def bootsel_button():
    """1 while the host holds the BOOTSEL button down (pins.in `BOOTSEL 1`), else 0."""
    return 1 if _simboard.driven().get("BOOTSEL") else 0


def country(*code):
    """The Wi-Fi country, as network.country(): get it, or set it with a two-letter code."""
    import network

    return network.country(*code)


def __getattr__(name):
    if name in _PIO:
        import _simexit

        _simexit.not_simulated("rp2.%s (PIO)" % name)
    if name in ("DMA", "Flash"):
        import _simexit

        _simexit.not_simulated("rp2." + name)
    raise AttributeError("'module' object has no attribute '%s'" % name)
