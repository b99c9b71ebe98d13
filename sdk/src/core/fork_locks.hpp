#pragma once
// Locks that fork() must not copy while another thread holds them (the
// child would find them locked forever). Sdk's pthread_atfork handlers
// take them before fork() and release them after, in both processes.
namespace obs::internal {

void lock_metrics_registry_for_fork();
void unlock_metrics_registry_after_fork();
void lock_diagnostics_for_fork();
void unlock_diagnostics_after_fork();
void lock_health_sources_for_fork();
void unlock_health_sources_after_fork();

// True while a forked child restarts its pipelines (on the forking
// thread, inside fork()). Delta-reporting backends then start from the
// current values: the parent reports what was counted before the fork.
bool restarting_after_fork();

}  // namespace obs::internal
