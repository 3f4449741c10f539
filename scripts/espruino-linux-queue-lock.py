#!/usr/bin/env python3
"""Makes the event queue of Espruino's Linux build thread-safe, in a source checkout, before
scripts/build-espruino.sh builds it for the Espruino suite.

Why: on a board, the console's receive interrupt and the interpreter's main loop share the
input event queue, and the interrupt cannot run in the middle of the main loop's check-and-pop.
The Linux build replaces the interrupt with a thread reading stdin and leaves
jshInterruptOff()/jshInterruptOn() empty, so when a command line arrives while the main loop is
taking events (more likely the busier the host), the queue's head and tail go out of step: the
interpreter drops, repeats or replays bytes of console input, and can loop over stale input
for good ("Execution Interrupted" and "OUT OF MEMORY" over and over). That never happens on a
board, so the simulated board gets the interrupt's exclusion back: a recursive mutex in
jshInterruptOff()/jshInterruptOn(), held while a character event is pushed or an event popped.

Usage: scripts/espruino-linux-queue-lock.py <espruino-checkout>   (idempotent)
"""
import sys, pathlib

MARK = "fwseal: queue lock"


def edit(path: pathlib.Path, pairs):
    text = path.read_text()
    if MARK in text:
        return False
    for old, new in pairs:
        if text.count(old) != 1:
            sys.exit(f"espruino-linux-queue-lock: {path}: expected text not found once: {old.splitlines()[0]!r}")
        text = text.replace(old, new)
    path.write_text(text)
    return True


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: espruino-linux-queue-lock.py <espruino-checkout>")
    src = pathlib.Path(sys.argv[1])
    hw = src / "targets/linux/jshardware.c"
    dev = src / "src/jsdevices.c"
    a = edit(hw, [(
        "void jshInterruptOff() {\n}\n\nvoid jshInterruptOn() {\n}",
        f"/* {MARK}: the stdin thread plays the receive interrupt */\n"
        "static pthread_mutex_t fwsQueueLock;\n"
        "static pthread_once_t fwsQueueOnce = PTHREAD_ONCE_INIT;\n"
        "static void fwsQueueInit(void) { pthread_mutexattr_t a; pthread_mutexattr_init(&a);"
        " pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE); pthread_mutex_init(&fwsQueueLock, &a); }\n"
        "void jshInterruptOff() {\n  pthread_once(&fwsQueueOnce, fwsQueueInit);\n  pthread_mutex_lock(&fwsQueueLock);\n}\n\n"
        "void jshInterruptOn() {\n  pthread_mutex_unlock(&fwsQueueLock);\n}",
    )])
    b = edit(dev, [
        (
            "IOEventFlags jshPopIOEvent(uint8_t *data, unsigned int *length) {\n",
            f"/* {MARK} */\nstatic IOEventFlags jshPopIOEventUnlocked(uint8_t *data, unsigned int *length);\n"
            "IOEventFlags jshPopIOEvent(uint8_t *data, unsigned int *length) {\n"
            "  jshInterruptOff();\n  IOEventFlags r = jshPopIOEventUnlocked(data, length);\n  jshInterruptOn();\n  return r;\n}\n"
            "static IOEventFlags jshPopIOEventUnlocked(uint8_t *data, unsigned int *length) {\n",
        ),
        (
            "void jshPushIOCharEvents(IOEventFlags channel, const char *data, unsigned int count) {\n",
            "static void jshPushIOCharEventsUnlocked(IOEventFlags channel, const char *data, unsigned int count);\n"
            "void jshPushIOCharEvents(IOEventFlags channel, const char *data, unsigned int count) {\n"
            "  jshInterruptOff();\n  jshPushIOCharEventsUnlocked(channel, data, count);\n  jshInterruptOn();\n}\n"
            "static void jshPushIOCharEventsUnlocked(IOEventFlags channel, const char *data, unsigned int count) {\n",
        ),
    ])
    print(f"espruino-linux-queue-lock: {'applied' if a or b else 'already applied'} in {src}")


main()
