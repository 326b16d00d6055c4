-- Run once by the postgres image on first start: one database per service.
CREATE DATABASE appstore;
CREATE DATABASE dashboard;
