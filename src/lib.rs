//! gonghui: a trade-union member service appliance in one binary.

pub mod activities;
pub mod app;
pub mod audit;
pub mod auth;
#[cfg(feature = "bench-routes")]
pub mod bench_routes;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod db;
pub mod error;
pub mod files;
pub mod http;
pub mod members;
pub mod messages;
pub mod metrics;
pub mod migrations;
pub mod news;
pub mod outbox;
pub mod search;
pub mod storage;
pub mod system;
pub mod time;
pub mod validate;
pub mod web;
pub mod wechat;
