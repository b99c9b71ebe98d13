"""Allowlists of the configuration keys the pinned images accept.

Each schema is a nested dict: a key maps to the schema of its value. ANY
accepts any value; ListOf(s) a list whose items match s; MapOf(s) a mapping
with free keys (names, labels) whose values match s; Components(types) a
Collector component section, whose keys are "type" or "type/name".

The keys were taken from each project's documentation for the pinned
version (configuration reference / manifest / component READMEs). They are
not complete: subtrees this demo does not configure are ANY or left out.
A key missing here fails the test; when the key is real, add it (from the
docs of the pinned version), when it is a typo or from another version, fix
the config. When an image is bumped, re-check the schema against that
version's docs and update PINNED below; the test fails until both agree.
"""


class _Any:
    def __repr__(self):
        return "ANY"


ANY = _Any()


class ListOf:
    def __init__(self, item):
        self.item = item


class MapOf:
    def __init__(self, value):
        self.value = value


class Components:
    def __init__(self, types):
        self.types = types


# The image tags the schemas below were written for.
PINNED = {
    "otel/opentelemetry-collector-contrib": "0.116.0",
    "grafana/tempo": "2.6.1",
    "grafana/loki": "3.3.2",
    "grafana/grafana": "11.4.0",
    "prom/prometheus": "v2.53.3",
}

# Keys people reach for that the pinned versions do not accept, with the
# reason (printed with the error).
HINTS = {
    "overrides.metrics_generator_processors":
        "the legacy flat overrides format; Tempo 2.3+ spells it overrides.defaults.metrics_generator.processors",
    "exporters.loki":
        "the contrib loki exporter is deprecated (and removed in later releases): use otlphttp to Loki's /otlp endpoint",
    "exporters.logging":
        "the logging exporter was removed (0.111); use debug",
    "limits_config.allow_structured_metadatas": "did you mean allow_structured_metadata?",
}

# --- OpenTelemetry Collector contrib 0.116.0 ---------------------------------
# Sources: collector docs (configuration), receiver/otlpreceiver,
# processor/batchprocessor, processor/memorylimiterprocessor,
# exporter/otlpexporter, exporter/otlphttpexporter, exporter/debugexporter,
# extension/healthcheckextension READMEs and confighttp/configgrpc/configtls.
_TLS_CLIENT = {
    "insecure": ANY, "insecure_skip_verify": ANY, "ca_file": ANY, "ca_pem": ANY,
    "cert_file": ANY, "cert_pem": ANY, "key_file": ANY, "key_pem": ANY,
    "server_name_override": ANY, "min_version": ANY, "max_version": ANY,
    "reload_interval": ANY, "include_system_ca_certs_pool": ANY, "cipher_suites": ANY,
}
_TLS_SERVER = {
    "ca_file": ANY, "cert_file": ANY, "key_file": ANY, "client_ca_file": ANY,
    "min_version": ANY, "max_version": ANY, "reload_interval": ANY,
    "client_ca_file_reload": ANY, "cipher_suites": ANY,
}
_QUEUE = {"enabled": ANY, "num_consumers": ANY, "queue_size": ANY, "storage": ANY, "blocking": ANY}
_RETRY = {
    "enabled": ANY, "initial_interval": ANY, "randomization_factor": ANY,
    "multiplier": ANY, "max_interval": ANY, "max_elapsed_time": ANY,
}
_GRPC_SERVER = {
    "endpoint": ANY, "transport": ANY, "tls": _TLS_SERVER, "max_recv_msg_size_mib": ANY,
    "max_concurrent_streams": ANY, "read_buffer_size": ANY, "write_buffer_size": ANY,
    "keepalive": ANY, "auth": ANY, "include_metadata": ANY,
}
_HTTP_SERVER = {
    "endpoint": ANY, "tls": _TLS_SERVER,
    "cors": {"allowed_origins": ANY, "allowed_headers": ANY, "max_age": ANY},
    "auth": ANY, "max_request_body_size": ANY, "include_metadata": ANY,
    "response_headers": ANY, "compression_algorithms": ANY,
    "traces_url_path": ANY, "metrics_url_path": ANY, "logs_url_path": ANY,
}
_HTTP_CLIENT_COMMON = {
    "endpoint": ANY, "tls": _TLS_CLIENT, "headers": MapOf(ANY), "timeout": ANY,
    "compression": ANY, "auth": ANY, "read_buffer_size": ANY, "write_buffer_size": ANY,
    "max_idle_conns": ANY, "max_idle_conns_per_host": ANY, "max_conns_per_host": ANY,
    "idle_conn_timeout": ANY, "disable_keep_alives": ANY, "http2_read_idle_timeout": ANY,
    "http2_ping_timeout": ANY, "proxy_url": ANY, "cookies": ANY,
    "sending_queue": _QUEUE, "retry_on_failure": _RETRY,
}

COLLECTOR_RECEIVERS = {
    "otlp": {"protocols": {"grpc": _GRPC_SERVER, "http": _HTTP_SERVER}},
}
COLLECTOR_PROCESSORS = {
    "batch": {
        "timeout": ANY, "send_batch_size": ANY, "send_batch_max_size": ANY,
        "metadata_keys": ANY, "metadata_cardinality_limit": ANY,
    },
    "memory_limiter": {
        "check_interval": ANY, "limit_mib": ANY, "spike_limit_mib": ANY,
        "limit_percentage": ANY, "spike_limit_percentage": ANY,
    },
    "resource": {"attributes": ListOf({"key": ANY, "value": ANY, "action": ANY, "from_attribute": ANY, "pattern": ANY})},
    "attributes": {"actions": ANY, "include": ANY, "exclude": ANY},
}
COLLECTOR_EXPORTERS = {
    "otlp": {
        "endpoint": ANY, "tls": _TLS_CLIENT, "headers": MapOf(ANY), "timeout": ANY,
        "compression": ANY, "balancer_name": ANY, "authority": ANY, "keepalive": ANY,
        "auth": ANY, "read_buffer_size": ANY, "write_buffer_size": ANY,
        "wait_for_ready": ANY, "sending_queue": _QUEUE, "retry_on_failure": _RETRY,
    },
    "otlphttp": dict(_HTTP_CLIENT_COMMON, **{
        "traces_endpoint": ANY, "metrics_endpoint": ANY, "logs_endpoint": ANY, "encoding": ANY,
    }),
    "debug": {"verbosity": ANY, "sampling_initial": ANY, "sampling_thereafter": ANY, "use_internal_logger": ANY},
}
COLLECTOR_EXTENSIONS = {
    "health_check": {
        "endpoint": ANY, "path": ANY, "tls": _TLS_SERVER, "response_body": ANY,
        "check_collector_pipeline": ANY,
    },
}
COLLECTOR = {
    "receivers": Components(COLLECTOR_RECEIVERS),
    "processors": Components(COLLECTOR_PROCESSORS),
    "exporters": Components(COLLECTOR_EXPORTERS),
    "extensions": Components(COLLECTOR_EXTENSIONS),
    "connectors": Components({}),
    "service": {
        "extensions": ListOf(ANY),
        "pipelines": MapOf({"receivers": ListOf(ANY), "processors": ListOf(ANY), "exporters": ListOf(ANY)}),
        "telemetry": {
            "logs": {
                "level": ANY, "encoding": ANY, "development": ANY, "disable_caller": ANY,
                "disable_stacktrace": ANY, "sampling": ANY, "output_paths": ANY,
                "error_output_paths": ANY, "initial_fields": ANY, "processors": ANY,
            },
            "metrics": {"level": ANY, "address": ANY, "readers": ANY},
            "traces": ANY,
            "resource": MapOf(ANY),
        },
    },
}

# --- Grafana Tempo 2.6.1 -------------------------------------------------------
# Source: Tempo docs, configuration reference and manifest (complete defaults)
# for 2.6; metrics-generator and overrides pages.
_DSKIT_SERVER = {
    "http_listen_network": ANY, "http_listen_address": ANY, "http_listen_port": ANY,
    "http_listen_conn_limit": ANY, "grpc_listen_network": ANY, "grpc_listen_address": ANY,
    "grpc_listen_port": ANY, "grpc_listen_conn_limit": ANY, "tls_cipher_suites": ANY,
    "tls_min_version": ANY, "http_tls_config": ANY, "grpc_tls_config": ANY,
    "register_instrumentation": ANY, "graceful_shutdown_timeout": ANY,
    "http_server_read_timeout": ANY, "http_server_write_timeout": ANY,
    "http_server_idle_timeout": ANY, "grpc_server_max_recv_msg_size": ANY,
    "grpc_server_max_send_msg_size": ANY, "grpc_server_max_concurrent_streams": ANY,
    "log_format": ANY, "log_level": ANY, "log_source_ips_enabled": ANY,
    "log_request_headers": ANY, "http_path_prefix": ANY,
}
_OTLP_RECEIVER_TEMPO = {"protocols": {"grpc": {"endpoint": ANY, "tls": ANY, "max_recv_msg_size_mib": ANY,
                                               "transport": ANY, "keepalive": ANY, "include_metadata": ANY},
                                      "http": {"endpoint": ANY, "tls": ANY, "cors": ANY, "include_metadata": ANY}}}
TEMPO = {
    "target": ANY,
    "http_api_prefix": ANY,
    "stream_over_http_enabled": ANY,
    "multitenancy_enabled": ANY,
    "autocomplete_filtering_enabled": ANY,
    "server": _DSKIT_SERVER,
    "usage_report": {"reporting_enabled": ANY},
    "memberlist": ANY,
    "distributor": {
        "receivers": {"otlp": _OTLP_RECEIVER_TEMPO, "jaeger": ANY, "zipkin": ANY, "opencensus": ANY, "kafka": ANY},
        "log_received_spans": {"enabled": ANY, "include_all_attributes": ANY, "filter_by_status_error": ANY},
        "log_discarded_spans": ANY,
        "ring": ANY, "forwarders": ANY, "extend_writes": ANY, "override_ring_key": ANY,
    },
    "ingester": {
        "lifecycler": ANY, "trace_idle_period": ANY, "max_block_bytes": ANY,
        "max_block_duration": ANY, "complete_block_timeout": ANY, "flush_check_period": ANY,
        "concurrent_flushes": ANY, "flush_op_timeout": ANY, "override_ring_key": ANY,
    },
    "compactor": {
        "ring": ANY,
        "compaction": {
            "block_retention": ANY, "compacted_block_retention": ANY, "compaction_window": ANY,
            "max_compaction_objects": ANY, "max_block_bytes": ANY, "retention_concurrency": ANY,
            "compaction_cycle": ANY, "max_time_per_tenant": ANY, "v2_in_buffer_bytes": ANY,
            "v2_out_buffer_bytes": ANY, "v2_prefetch_traces_count": ANY,
        },
    },
    "querier": ANY,
    "query_frontend": ANY,
    "ingester_client": ANY,
    "metrics_generator_client": ANY,
    "cache": ANY,
    "metrics_generator": {
        "ring": ANY,
        "processor": {
            "service_graphs": {
                "wait": ANY, "max_items": ANY, "workers": ANY, "histogram_buckets": ANY,
                "dimensions": ANY, "enable_client_server_prefix": ANY,
                "enable_messaging_system_latency_histogram": ANY, "peer_attributes": ANY,
                "span_multiplier_key": ANY, "enable_virtual_node_label": ANY,
            },
            "span_metrics": {
                "histogram_buckets": ANY, "intrinsic_dimensions": ANY, "dimensions": ANY,
                "dimension_mappings": ANY, "enable_target_info": ANY, "span_multiplier_key": ANY,
                "subprocessors": ANY, "filter_policies": ANY, "target_info_excluded_dimensions": ANY,
            },
            "local_blocks": ANY,
        },
        "registry": {
            "collection_interval": ANY, "stale_duration": ANY, "external_labels": MapOf(ANY),
            "max_label_name_length": ANY, "max_label_value_length": ANY,
        },
        "storage": {
            "path": ANY, "wal": ANY, "remote_write_flush_deadline": ANY,
            "remote_write_add_org_id_header": ANY,
            "remote_write": ListOf({
                "url": ANY, "name": ANY, "send_exemplars": ANY, "send_native_histograms": ANY,
                "remote_timeout": ANY, "headers": MapOf(ANY), "write_relabel_configs": ANY,
                "basic_auth": ANY, "authorization": ANY, "oauth2": ANY, "tls_config": ANY,
                "proxy_url": ANY, "follow_redirects": ANY, "enable_http2": ANY,
                "queue_config": ANY, "metadata_config": ANY,
            }),
        },
        "traces_storage": {"path": ANY},
        "metrics_ingestion_time_range_slack": ANY,
        "query_timeout": ANY,
        "override_ring_key": ANY,
    },
    "storage": {
        "trace": {
            "backend": ANY,
            "wal": {"path": ANY, "v2_encoding": ANY, "search_encoding": ANY, "ingestion_time_range_slack": ANY, "version": ANY},
            "local": {"path": ANY},
            "block": ANY, "search": ANY, "pool": ANY, "cache": ANY, "background_cache": ANY,
            "memcached": ANY, "redis": ANY, "blocklist_poll": ANY, "blocklist_poll_concurrency": ANY,
            "s3": ANY, "gcs": ANY, "azure": ANY,
        },
    },
    "overrides": {
        "defaults": {
            "ingestion": ANY,
            "read": ANY,
            "compaction": ANY,
            "storage": ANY,
            "global": ANY,
            "forwarders": ANY,
            "metrics_generator": {
                "processors": ListOf(ANY), "ring_size": ANY, "max_active_series": ANY,
                "collection_interval": ANY, "disable_collection": ANY, "generate_native_histograms": ANY,
                "ingestion_time_range_slack": ANY, "remote_write_headers": ANY,
                "processor": ANY,
            },
        },
        "per_tenant_override_config": ANY,
        "per_tenant_override_period": ANY,
        "user_configurable_overrides": ANY,
    },
}

# --- Grafana Loki 3.3.2 ---------------------------------------------------------
# Source: Loki docs, configuration reference for 3.3 (common, schema_config,
# limits_config, query_range, pattern_ingester, analytics, compactor, ruler)
# and "Ingesting logs to Loki using OpenTelemetry Collector".
LOKI = {
    "target": ANY,
    "auth_enabled": ANY,
    "ballast_bytes": ANY,
    "server": _DSKIT_SERVER,
    "common": {
        "path_prefix": ANY, "replication_factor": ANY, "instance_addr": ANY,
        "instance_interface_names": ANY, "instance_enable_ipv6": ANY, "compactor_address": ANY,
        "compactor_grpc_address": ANY,
        "ring": {"kvstore": {"store": ANY, "prefix": ANY, "consul": ANY, "etcd": ANY, "multi": ANY},
                 "heartbeat_period": ANY, "heartbeat_timeout": ANY, "instance_addr": ANY,
                 "instance_port": ANY, "instance_id": ANY, "zone_awareness_enabled": ANY},
        "storage": {"filesystem": {"chunks_directory": ANY, "rules_directory": ANY},
                    "s3": ANY, "gcs": ANY, "azure": ANY, "swift": ANY, "bos": ANY, "cos": ANY,
                    "hedging": ANY, "congestion_control": ANY, "object_store": ANY},
        "persist_tokens": ANY,
    },
    "schema_config": {
        "configs": ListOf({
            "from": ANY, "store": ANY, "object_store": ANY, "schema": ANY,
            "index": {"prefix": ANY, "period": ANY, "path_prefix": ANY, "tags": ANY},
            "chunks": ANY, "row_shards": ANY,
        }),
    },
    "storage_config": ANY,
    "limits_config": {
        "allow_structured_metadata": ANY, "volume_enabled": ANY, "retention_period": ANY,
        "reject_old_samples": ANY, "reject_old_samples_max_age": ANY,
        "ingestion_rate_mb": ANY, "ingestion_burst_size_mb": ANY,
        "max_structured_metadata_size": ANY, "max_structured_metadata_entries_count": ANY,
        "discover_service_name": ANY, "discover_log_levels": ANY, "otlp_config": ANY,
        "max_query_series": ANY, "max_query_parallelism": ANY, "max_label_names_per_series": ANY,
        "max_entries_limit_per_query": ANY, "split_queries_by_interval": ANY,
        "query_timeout": ANY, "per_stream_rate_limit": ANY, "per_stream_rate_limit_burst": ANY,
        "max_global_streams_per_user": ANY, "max_cache_freshness_per_query": ANY,
        "shard_streams": ANY, "metric_aggregation_enabled": ANY, "pattern_persistence_enabled": ANY,
        "bloom_creation_enabled": ANY, "bloom_gateway_enable_filtering": ANY,
    },
    "query_range": {
        "results_cache": {"cache": {"embedded_cache": {"enabled": ANY, "max_size_mb": ANY, "max_size_items": ANY, "ttl": ANY},
                                    "default_validity": ANY, "memcached": ANY, "memcached_client": ANY, "redis": ANY},
                          "compression": ANY},
        "cache_results": ANY, "align_queries_with_step": ANY, "max_retries": ANY,
        "parallelise_shardable_queries": ANY, "cache_index_stats_results": ANY,
        "cache_volume_results": ANY, "cache_instant_metric_results": ANY,
    },
    "pattern_ingester": {"enabled": ANY, "lifecycler": ANY, "client_config": ANY, "concurrent_flushes": ANY,
                         "flush_check_period": ANY, "max_clusters": ANY, "max_eviction_ratio": ANY,
                         "metric_aggregation": ANY},
    "analytics": {"reporting_enabled": ANY, "usage_stats_url": ANY},
    "compactor": {"working_directory": ANY, "compaction_interval": ANY, "retention_enabled": ANY,
                  "retention_delete_delay": ANY, "delete_request_store": ANY, "delete_request_cancel_period": ANY},
    "ruler": {"alertmanager_url": ANY, "storage": ANY, "rule_path": ANY, "enable_api": ANY,
              "enable_alertmanager_v2": ANY, "ring": ANY},
    "ingester": ANY,
    "querier": ANY,
    "frontend": ANY,
    "frontend_worker": ANY,
    "query_scheduler": ANY,
    "distributor": {"otlp_config": ANY, "ring": ANY, "rate_store": ANY, "write_failures_logging": ANY},
    "memberlist": ANY,
    "tracing": {"enabled": ANY},
    "chunk_store_config": ANY,
    "runtime_config": ANY,
    "table_manager": ANY,
}

# --- Grafana 11.4 datasource provisioning ---------------------------------------
# Source: Grafana docs "Provision Grafana" (datasources) and the Prometheus,
# Tempo ("Configure the Tempo data source", provisioning example) and Loki
# data source pages for 11.x.
_TIME_SHIFT_TAGS = ListOf({"key": ANY, "value": ANY})
GRAFANA_JSONDATA = {
    "prometheus": {
        "httpMethod": ANY, "timeInterval": ANY, "queryTimeout": ANY, "prometheusType": ANY,
        "prometheusVersion": ANY, "manageAlerts": ANY, "cacheLevel": ANY,
        "incrementalQuerying": ANY, "incrementalQueryOverlapWindow": ANY,
        "disableRecordingRules": ANY, "defaultEditor": ANY, "customQueryParameters": ANY,
        "exemplarTraceIdDestinations": ListOf({"name": ANY, "datasourceUid": ANY, "url": ANY, "urlDisplayLabel": ANY}),
    },
    "tempo": {
        "tracesToLogsV2": {
            "datasourceUid": ANY, "spanStartTimeShift": ANY, "spanEndTimeShift": ANY,
            "tags": _TIME_SHIFT_TAGS, "filterByTraceID": ANY, "filterBySpanID": ANY,
            "customQuery": ANY, "query": ANY,
        },
        "tracesToMetrics": {
            "datasourceUid": ANY, "spanStartTimeShift": ANY, "spanEndTimeShift": ANY,
            "tags": _TIME_SHIFT_TAGS, "queries": ListOf({"name": ANY, "query": ANY}),
        },
        "tracesToProfiles": ANY,
        "serviceMap": {"datasourceUid": ANY},
        "nodeGraph": {"enabled": ANY},
        "search": {"hide": ANY, "filters": ANY},
        "lokiSearch": {"datasourceUid": ANY},
        "traceQuery": {"timeShiftEnabled": ANY, "spanStartTimeShift": ANY, "spanEndTimeShift": ANY},
        "spanBar": {"type": ANY, "tag": ANY},
        "streamingEnabled": {"search": ANY, "metrics": ANY},
        "timeout": ANY,
    },
    "loki": {
        "maxLines": ANY, "timeout": ANY, "manageAlerts": ANY,
        "derivedFields": ListOf({"name": ANY, "matcherRegex": ANY, "matcherType": ANY, "url": ANY,
                                 "datasourceUid": ANY, "urlDisplayLabel": ANY, "targetBlank": ANY}),
    },
}
GRAFANA_DATASOURCE = {
    "name": ANY, "type": ANY, "uid": ANY, "access": ANY, "url": ANY, "orgId": ANY,
    "isDefault": ANY, "editable": ANY, "version": ANY, "basicAuth": ANY, "basicAuthUser": ANY,
    "withCredentials": ANY, "database": ANY, "user": ANY, "secureJsonData": ANY,
    "jsonData": ANY,  # checked per type with GRAFANA_JSONDATA
}
GRAFANA_DATASOURCES_FILE = {
    "apiVersion": ANY,
    "datasources": ListOf(GRAFANA_DATASOURCE),
    "deleteDatasources": ListOf({"name": ANY, "orgId": ANY}),
    "prune": ANY,
}
