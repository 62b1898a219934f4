//! Grouped AVPs read in the walk that validates them (see
//! [`ReadAvps::group`]): the typed views' fields for the first
//! Subscription-Id, Requested-Service-Unit and Service-Information of a
//! CCR are filled while the validator walks their content, so that no
//! group decoder walks it a second time.

use diameter_core::read::{read_set, ReadAvps};
use diameter_core::{Avp, AvpSet, Error};

/// The reader of one kind of group's content, and the value it makes.
pub(crate) trait GroupReader<'a>: ReadAvps<'a> {
    /// What the group decodes to.
    type Value;
    /// The value, once every AVP of the group's content `set` was read.
    fn finish(&mut self, set: AvpSet<'a>) -> Result<Self::Value, Error>;
}

/// Decode the content `set` of a group with a fresh `reader` (a walk of
/// its own, for a group not read in the validation walk).
#[inline]
pub(crate) fn decode_group<'a, R: GroupReader<'a>>(
    set: AvpSet<'a>,
    mut reader: R,
) -> Result<R::Value, Error> {
    read_set(set, &mut reader)?;
    reader.finish(set)
}

/// The field of the first group of one definition: [`InWalk::open`] gives
/// the reader of its content to [`ReadAvps::group`], [`InWalk::close`]
/// makes the value when the walk reaches the group itself.
pub(crate) struct InWalk<'a, R: GroupReader<'a>> {
    reader: R,
    opened: bool,
    /// The first group's value, once read.
    pub(crate) value: Option<R::Value>,
}

impl<'a, R: GroupReader<'a>> InWalk<'a, R> {
    /// A field no group was read into yet.
    #[inline(always)]
    pub(crate) fn new(reader: R) -> Self {
        InWalk {
            reader,
            opened: false,
            value: None,
        }
    }

    /// The reader of the group's content, for the first group only.
    #[inline(always)]
    pub(crate) fn open(&mut self) -> Option<&mut dyn ReadAvps<'a>> {
        if self.opened {
            return None;
        }
        self.opened = true;
        Some(&mut self.reader)
    }

    /// The group `avp` itself, after its content: the first one's value
    /// (its content is read now if the walk did not give it to
    /// [`InWalk::open`]'s reader).
    #[inline(always)]
    pub(crate) fn close(&mut self, avp: &Avp<'a>) -> Result<(), Error> {
        if self.value.is_some() {
            return Ok(());
        }
        let set = avp.group_set();
        if !self.opened {
            self.opened = true;
            read_set(set, &mut self.reader)?;
        }
        self.value = Some(self.reader.finish(set)?);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dict;
    use crate::msg::groups::SubscriptionIdReader;
    use crate::msg::SubscriptionId;
    use diameter_core::{ApplicationId, CommandCode, HeaderRepr, Message, MessageBuilder};

    /// A group whose content the walk did not hand over is read when the
    /// walk reaches it; only the first group of the field is kept.
    #[test]
    fn close_reads_a_group_not_opened() {
        let mut buf = [0u8; 256];
        let mut b = MessageBuilder::new(
            &mut buf,
            HeaderRepr::request(
                CommandCode::CREDIT_CONTROL,
                ApplicationId::CREDIT_CONTROL,
                1,
                1,
            ),
        );
        for n in ["1001", "1002"] {
            b.grouped(&dict::SUBSCRIPTION_ID, |g| SubscriptionId::e164(n).write(g));
        }
        let msg = Message::parse(b.finish().unwrap()).unwrap();
        let mut field = InWalk::new(SubscriptionIdReader::default());
        for avp in msg.iter() {
            field.close(&avp.unwrap()).unwrap();
        }
        assert_eq!(field.value, Some(SubscriptionId::e164("1001")));
        assert!(
            field.open().is_none(),
            "a field read once is not opened again"
        );
    }
}
