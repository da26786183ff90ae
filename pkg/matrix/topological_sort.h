#pragma once
// The lexicographically smallest topological order of a DAG (Kahn's algorithm with a priority
// queue), as state resolution v2's "reverse topological power ordering" defines it: a node comes
// after every node it depends on, and among the nodes whose dependencies are all placed, the
// smallest under `less` goes next. Forward, smallest first: building the order from the newest end
// (largest first) or sorting layer by layer gives a different order on some DAGs.

#include <functional>
#include <vector>

namespace periscope::matrix {

// Nodes are 0..depends_on.size()-1; depends_on[n] lists the nodes that must come before n (every
// entry must be a valid node). A node on a cycle is never placed, so the result is shorter than
// the node count exactly when the graph has a cycle.
std::vector<int> LexicographicalTopologicalSort(const std::vector<std::vector<int>>& depends_on,
                                                const std::function<bool(int, int)>& less);

}  // namespace periscope::matrix
