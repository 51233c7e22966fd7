//! The live chat's rating switch (B33) through the core: any member reads it, a supervisor
//! changes it. The server decides who may and tells open widgets; the core only asks.

use switchboard_protocol::{
    Endpoint, GetRatingSettings, LiveChatId, RatingSettings, SaveRatingSettings,
};

use crate::{Core, CoreError};

impl Core {
    /// Whether the live chat asks its visitors for ratings.
    pub async fn rating_settings(
        &self,
        live_chat: LiveChatId,
    ) -> Result<RatingSettings, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = GetRatingSettings::PATH.replace("{id}", &live_chat.to_string());
        self.inner
            .rest::<GetRatingSettings>(&path, Some(&token), None::<&()>)
            .await
    }

    /// Switches rating prompts on or off (supervisors only; others get `forbidden`).
    pub async fn set_rating_settings(
        &self,
        live_chat: LiveChatId,
        settings: RatingSettings,
    ) -> Result<RatingSettings, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = SaveRatingSettings::PATH.replace("{id}", &live_chat.to_string());
        self.inner
            .rest::<SaveRatingSettings>(&path, Some(&token), Some(&settings))
            .await
    }
}
