//! API integration tests: each test starts the real router on 127.0.0.1:0 with its own temp
//! data dir and talks HTTP to it.

mod support;

mod accounts;
mod activities;
mod admin_ui;
mod aid;
mod authz;
mod authz_matrix;
mod backup;
mod backup_s3;
mod bad_input;
mod benefits;
mod cli;
mod cursor;
mod diag;
mod diskfull;
mod docs;
mod durability;
mod files;
mod files_sweep;
mod hardening;
mod member_client;
mod members_admin;
mod members_app;
mod members_xlsx;
mod membership;
mod messages;
mod news;
mod openapi_doc;
mod orgs;
mod outbox;
mod perms;
mod proxy;
mod roles;
mod s3;
mod safety;
mod session;
mod stats;
mod tickets;
mod web;
