//! `rename`: move a stopped container to a new name.

use super::Container;
use crate::error::{Error, Result};

impl Container {
    pub fn rename(&self, newname: &str) -> Result<()> {
        let _ = newname;
        Err(Error::not_implemented("rename"))
    }
}
