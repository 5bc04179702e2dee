//! Keyed anonymizer for HAProxy configurations and logs.
