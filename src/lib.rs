
pub mod apply;
