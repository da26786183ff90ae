#include "pkg/matrix/topological_sort.h"

#include <queue>

namespace periscope::matrix {

std::vector<int> LexicographicalTopologicalSort(const std::vector<std::vector<int>>& depends_on,
                                                const std::function<bool(int, int)>& less) {
  const int n = static_cast<int>(depends_on.size());
  std::vector<int> unplaced_dependencies(n, 0);
  std::vector<std::vector<int>> dependents(n);
  for (int node = 0; node < n; ++node) {
    for (int dependency : depends_on[node]) {
      ++unplaced_dependencies[node];
      dependents[dependency].push_back(node);
    }
  }
  // std::priority_queue pops the largest, so the comparison is reversed.
  auto greater = [&less](int a, int b) { return less(b, a); };
  std::priority_queue<int, std::vector<int>, decltype(greater)> ready(greater);
  for (int node = 0; node < n; ++node) {
    if (unplaced_dependencies[node] == 0) ready.push(node);
  }
  std::vector<int> order;
  order.reserve(n);
  while (!ready.empty()) {
    int node = ready.top();
    ready.pop();
    order.push_back(node);
    for (int dependent : dependents[node]) {
      if (--unplaced_dependencies[dependent] == 0) ready.push(dependent);
    }
  }
  return order;
}

}  // namespace periscope::matrix
