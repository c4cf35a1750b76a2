//! `destroy`: remove a stopped container's rootfs and directory.

use super::Container;
use crate::error::{Error, Result};

impl Container {
    pub fn destroy(&self) -> Result<()> {
        Err(Error::not_implemented("destroy"))
    }
}
