#pragma once
// Waiting for SIGINT/SIGTERM in main() without async-signal handlers.
//
// Call BlockShutdownSignals() first thing in main(), before any thread starts (threads inherit
// the mask), then WaitForShutdownSignal() once everything is serving.

namespace periscope::process {

void BlockShutdownSignals();

// Blocks until SIGINT or SIGTERM arrives; returns the signal number.
int WaitForShutdownSignal();

}  // namespace periscope::process
