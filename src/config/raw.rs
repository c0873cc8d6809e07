//! `RawConfig`: the environment variables by name, as text; envy maps `HTTP_PORT` to `http_port`.

use serde::Deserialize;

/// Every variable the service reads, unparsed. Unknown variables are ignored.
#[derive(Debug, Default, Deserialize)]
#[allow(missing_docs)]
pub struct RawConfig {
    pub http_port: Option<String>,
    pub http_host: Option<String>,
    pub log_level: Option<String>,
    pub crud_service: Option<String>,
    pub users_crud_endpoint: Option<String>,
    pub ums_config_crud_endpoint: Option<String>,
    pub roles_crud_endpoint: Option<String>,
    pub jobs_crud_endpoint: Option<String>,
    pub auth_module: Option<String>,
    pub auth_service: Option<String>,
    pub auth_connection: Option<String>,
    pub auth_change_password_path: Option<String>,
    pub auth_user_path: Option<String>,
    pub auth_hard_delete: Option<String>,
    pub random_pwd_gen: Option<String>,
    pub random_pwd_length: Option<String>,
    pub custom_user_id_key: Option<String>,
    pub userinfo_additional_properties: Option<String>,
    pub configuration_path: Option<String>,
    pub rond_enabled: Option<String>,
    pub rond_service: Option<String>,
    pub rond_subject_key: Option<String>,
    pub timer_service: Option<String>,
    pub timer_service_headers: Option<String>,
    pub timer_callback_base_url: Option<String>,
    pub user_import_batch_size: Option<String>,
    pub import_max_file_bytes: Option<String>,
    pub auth0_job_polling_interval: Option<String>,
    pub auth0_bulk_change_password_rate_limit_per_second: Option<String>,
    pub downstream_timeout_ms: Option<String>,
    pub request_body_limit_bytes: Option<String>,
    pub userid_header_key: Option<String>,
    pub groups_header_key: Option<String>,
    pub clienttype_header_key: Option<String>,
    pub backoffice_header_key: Option<String>,
    pub user_properties_header_key: Option<String>,
    pub additional_headers_to_proxy: Option<String>,
    pub data_dir: Option<String>,
    pub groups_config_dir: Option<String>,
    pub password_reset_webhook_url: Option<String>,
}
