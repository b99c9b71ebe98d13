#pragma once
// Tests that fork() while the SDK's threads run skip themselves under
// GCC 12's sanitizers, whose runtimes do not support it:
// - AddressSanitizer's allocator takes locks of its own that it does not
//   hold across fork(), so a child forked while another thread allocates
//   can block forever in malloc (seen: the child's restarted threads
//   waiting on the sanitizer allocator's mutex). glibc's malloc, in normal
//   builds, is fork-safe.
// - ThreadSanitizer still registers the parent's threads in the child and
//   aborts when a new thread gets the id of one ("dup thread with used id").
#include <gtest/gtest.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define OBS_SKIP_FORK_TEST_UNDER_SANITIZERS() \
  GTEST_SKIP() << "GCC 12's sanitizer runtimes do not support fork() with other threads running"
#else
#define OBS_SKIP_FORK_TEST_UNDER_SANITIZERS() (void)0
#endif
