//! Customer records (B34): read and created over REST for the customer panel. Not cached: the
//! panel asks when it opens, and creating one needs the server anyway.

use switchboard_protocol::{
    ChatId, CreateCustomer, CreateCustomerRequest, Customer, Endpoint, GetChatCustomer,
};

use crate::{Core, CoreError};

impl Core {
    /// The customer record the chat's visitor is linked to, if any.
    pub async fn chat_customer(&self, chat: ChatId) -> Result<Option<Customer>, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        let path = GetChatCustomer::PATH.replace("{id}", &chat.to_string());
        self.inner
            .rest::<GetChatCustomer>(&path, Some(&token), None::<&()>)
            .await
    }

    /// Creates a customer record for the chat's visitor; later chats of the visitor show it.
    pub async fn create_customer(
        &self,
        request: CreateCustomerRequest,
    ) -> Result<Customer, CoreError> {
        let token = self.inner.token().ok_or(CoreError::SignedOut)?;
        self.inner
            .rest::<CreateCustomer>(CreateCustomer::PATH, Some(&token), Some(&request))
            .await
    }
}
