// A small text file of search results, one line per convolution: key, layout, skip, implementation name.
// The search times every candidate and takes seconds per process on bench-unet3d's shapes (10 s under
// load 12), which a fresh agent process would pay in its first round; with the file it pays it once per
// machine. The key holds everything the choice depends on (oneDNN version, the CPU's ISA as oneDNN sees it,
// the thread count, the convolution), and a stored choice is used only if oneDNN still offers an
// implementation of that name at that place, so a stale line costs a search, never a wrong result (every
// candidate computes the same convolution). Location: FEDSEG_NATIVE_PLAN_CACHE (a file path, or 0 for none),
// else $XDG_CACHE_HOME/fedseg/onednn-plans.txt, else ~/.cache/fedseg/onednn-plans.txt. Lines are appended
// with one write each, so processes sharing the file (a demo's agents) do not interleave them.
#include "plan-store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

namespace fedseg {
namespace {

std::string storePath() {
  const char* configured = std::getenv("FEDSEG_NATIVE_PLAN_CACHE");
  if (configured != nullptr) return std::string(configured) == "0" ? std::string() : std::string(configured);
  const char* xdg = std::getenv("XDG_CACHE_HOME");
  const char* home = std::getenv("HOME");
  if (xdg != nullptr && xdg[0] != '\0') return std::string(xdg) + "/fedseg/onednn-plans.txt";
  if (home != nullptr && home[0] != '\0') return std::string(home) + "/.cache/fedseg/onednn-plans.txt";
  return std::string();
}

std::mutex storeMutex;
bool loaded = false;
std::map<std::string, StoredChoice> choices;

void loadOnce() {
  if (loaded) return;
  loaded = true;
  const std::string path = storePath();
  if (path.empty()) return;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string key, layout, skip, impl;
    if (!std::getline(fields, key, '\t') || !std::getline(fields, layout, '\t') ||
        !std::getline(fields, skip, '\t') || !std::getline(fields, impl, '\t')) {
      continue;  // a torn or foreign line: ignored, that shape is searched again
    }
    try {
      choices[key] = StoredChoice{std::stoi(layout), std::stoi(skip), impl};
    } catch (const std::exception&) {
      continue;
    }
  }
}

}  // namespace

std::optional<StoredChoice> loadChoice(const std::string& key) {
  std::lock_guard<std::mutex> lock(storeMutex);
  loadOnce();
  auto it = choices.find(key);
  if (it == choices.end()) return std::nullopt;
  return it->second;
}

void saveChoice(const std::string& key, const StoredChoice& choice) {
  std::lock_guard<std::mutex> lock(storeMutex);
  loadOnce();
  choices[key] = choice;
  const std::string path = storePath();
  if (path.empty()) return;
  std::error_code ignored;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ignored);
  const std::string line =
      key + "\t" + std::to_string(choice.layout) + "\t" + std::to_string(choice.skip) + "\t" + choice.impl + "\t\n";
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return;  // a read-only home: the choice lives for this process only
  const ssize_t written = ::write(fd, line.data(), line.size());
  (void)written;
  ::close(fd);
}

}  // namespace fedseg
