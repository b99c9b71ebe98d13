#pragma once
// Everything an instrumented service needs.
#include "obs/config.hpp"
#include "obs/fields.hpp"
#include "obs/health.hpp"
#include "obs/instruments.hpp"
#include "obs/level.hpp"
#include "obs/log.hpp"
#include "obs/metric.hpp"
#include "obs/metrics_registry.hpp"
#include "obs/sdk.hpp"
#include "obs/tags.hpp"
#include "obs/version.hpp"
