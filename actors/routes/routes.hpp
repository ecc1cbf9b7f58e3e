#pragma once

#include "actors/gateway.hpp"

namespace chat {

/// /healthz, /readyz.
void add_ops_routes(route_table& table);

/// /metrics (Prometheus text).
void add_metrics_route(route_table& table);

/// /v1/models, /v1/chat/completions, /v1/completions.
void add_openai_routes(route_table& table);

/// /api/sessions*, /chat.
void add_session_routes(route_table& table);

/// /admin/models, /admin/models/{id}/activate.
void add_model_routes(route_table& table);

/// /admin/jobs*.
void add_job_routes(route_table& table);

/// /admin/datasets.
void add_dataset_routes(route_table& table);

/// /admin/filters*, /admin/alerts.
void add_safety_routes(route_table& table);

/// /admin/users, /admin/keys, /admin/sessions, /admin/workers.
void add_admin_routes(route_table& table);

/// The web client (web/ui) at / and its files by path, public.
void add_web_routes(route_table& table);

} // namespace chat
