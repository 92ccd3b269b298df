// Which implementation the per-shape search chose, remembered across processes; see plan-store.cc.
#pragma once

#include <optional>
#include <string>

namespace fedseg {

struct StoredChoice {
  int layout = 0;  // 0 plain, 1 blocked, 2 our direct loops
  int skip = 0;    // implementations skipped in oneDNN's list for that layout
  std::string impl;
};

std::optional<StoredChoice> loadChoice(const std::string& key);
void saveChoice(const std::string& key, const StoredChoice& choice);

}  // namespace fedseg
