//! Text handling shared by intent matching, the guard and the dialogs:
//! normalisation and segmentation.
//!
//! Everything here works on *characters*, never bytes: positions reported to
//! operators (`kefu match`) are character ranges in the normalised text, so a
//! Chinese message reads the same as an English one.

mod normalize;
mod segment;

pub use normalize::{fold, is_han, normalize, MAX_MESSAGE_CHARS};
pub use segment::{Segmenter, Token, TokenKind};
