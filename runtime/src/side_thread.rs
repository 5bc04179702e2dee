//! Threads beside the workers (the Runtime API, the master CLI channel, stick-table
//! synchronisation, ring forwarding, DNS resolution): each runs its own single-threaded tokio runtime with a `LocalSet`, as the
//! workers do, so their tasks may hold `Rc` state and spawn local tasks.

/// Starts the thread `name`, running the future `task` makes until it ends.
pub fn spawn<F, Fut>(name: &str, task: F) -> std::io::Result<std::thread::JoinHandle<()>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + 'static,
{
    std::thread::Builder::new()
        .name(name.into())
        .spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            tokio::task::LocalSet::new().block_on(&rt, task());
        })
}
