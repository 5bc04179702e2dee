//! Rare steps of the request path's async fns, kept out of their callers' code.
//!
//! An async fn's steps are compiled into its caller's `poll`: a future polled from one place
//! only is inlined there, even boxed, so a fresh connection's handshake, an HTTP/2 or FastCGI
//! exchange or a retry's pause sat between the instructions of every keep-alive request, and
//! each of those requests paid instruction-cache misses for lines it never ran.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A future boxed and polled through a function of its own, marked cold: the caller's code
/// holds a call, and the compiler lays that call out away from the hot path.
pub(crate) struct Cold<F>(Pin<Box<F>>);

/// `step`, to be awaited as a rare step (see [`Cold`]). It costs one allocation when it runs.
#[cold]
#[inline(never)]
pub(crate) fn cold<F: Future>(step: F) -> Cold<F> {
    Cold(Box::pin(step))
}

impl<F: Future> Future for Cold<F> {
    type Output = F::Output;

    #[cold]
    #[inline(never)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.0.as_mut().poll(cx)
    }
}

/// `ext`'s `T`, taken out. A keep-alive request and its server's response usually carry no
/// extension at all: the caller's code only tests for that, and the look-up (a hash probe and a
/// downcast, inlined at each site otherwise) is a call laid out away from it.
#[inline]
pub(crate) fn take_ext<T: Send + Sync + 'static>(ext: &mut hyper::http::Extensions) -> Option<T> {
    if ext.is_empty() {
        return None;
    }
    take_ext_apart(ext)
}

#[cold]
#[inline(never)]
fn take_ext_apart<T: Send + Sync + 'static>(ext: &mut hyper::http::Extensions) -> Option<T> {
    ext.remove::<T>()
}

/// `ext`'s `T`, copied out; see [`take_ext`].
#[inline]
pub(crate) fn ext_copy<T: Copy + Send + Sync + 'static>(
    ext: &hyper::http::Extensions,
) -> Option<T> {
    if ext.is_empty() {
        return None;
    }
    ext_copy_apart(ext)
}

#[cold]
#[inline(never)]
fn ext_copy_apart<T: Copy + Send + Sync + 'static>(ext: &hyper::http::Extensions) -> Option<T> {
    ext.get::<T>().copied()
}

/// Whether `ext` holds a `T`; see [`take_ext`].
#[inline]
pub(crate) fn has_ext<T: Send + Sync + 'static>(ext: &hyper::http::Extensions) -> bool {
    !ext.is_empty() && has_ext_apart::<T>(ext)
}

#[cold]
#[inline(never)]
fn has_ext_apart<T: Send + Sync + 'static>(ext: &hyper::http::Extensions) -> bool {
    ext.get::<T>().is_some()
}
