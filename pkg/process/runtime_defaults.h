#pragma once
// Process-wide settings for the server binaries (not the tests), applied first thing in main().

namespace periscope::process {

// Turns off Abseil's mutex deadlock detection. Debian's Abseil is built without NDEBUG, so by
// default every Mutex acquisition also updates a global lock-order graph under a global lock:
// a few percent of CPU and a point of contention under a /sync wake-up storm. Tests keep it on.
void ApplyServerRuntimeDefaults();

}  // namespace periscope::process
