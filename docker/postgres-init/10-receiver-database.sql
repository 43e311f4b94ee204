-- Run once by the postgres image when its data volume is new: the receiver's own database
-- beside the mock's (POSTGRES_DB), so that resetting one never touches the other.
CREATE DATABASE uniqodo_receiver;
