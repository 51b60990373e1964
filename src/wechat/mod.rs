//! WeChat server API client (placeholder, being written).
