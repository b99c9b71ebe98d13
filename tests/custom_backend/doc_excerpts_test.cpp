// docs/custom-backends.md quotes the Loki example. Every code block marked
//   <!-- excerpt: <path relative to the repository> -->
// must appear verbatim in that file, so the walkthrough cannot drift from
// the code it explains.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>

#ifndef OBS_SOURCE_DIR
#error "OBS_SOURCE_DIR must name the repository root"
#endif

namespace {

std::string read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

TEST(CustomBackendsDoc, ExcerptsMatchTheExample) {
  const std::string root = OBS_SOURCE_DIR;
  const std::string doc = read(root + "/docs/custom-backends.md");
  ASSERT_FALSE(doc.empty()) << "cannot read docs/custom-backends.md";

  const std::string marker = "<!-- excerpt: ";
  int checked = 0;
  for (std::size_t at = doc.find(marker); at != std::string::npos; at = doc.find(marker, at + 1)) {
    const std::size_t path_start = at + marker.size();
    const std::size_t path_end = doc.find(" -->", path_start);
    ASSERT_NE(path_end, std::string::npos);
    const std::string path = doc.substr(path_start, path_end - path_start);
    SCOPED_TRACE("excerpt of " + path + " at offset " + std::to_string(at));

    const std::size_t fence = doc.find("\n```", path_end);
    ASSERT_EQ(doc.find('\n', path_end), fence) << "the marker must be followed by a code fence";
    const std::size_t code_start = doc.find('\n', fence + 1) + 1;
    const std::size_t code_end = doc.find("\n```", code_start - 1);
    ASSERT_NE(code_end, std::string::npos);
    const std::string code = doc.substr(code_start, code_end + 1 - code_start);

    const std::string source = read(root + "/" + path);
    ASSERT_FALSE(source.empty()) << "cannot read " << path;
    EXPECT_NE(source.find(code), std::string::npos) << "not found verbatim in " << path << ":\n" << code;
    ++checked;
  }
  EXPECT_GE(checked, 7) << "fewer excerpts than expected: did the marker format change?";
}

}  // namespace
