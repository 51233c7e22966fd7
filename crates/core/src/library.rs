//! The operator's reply library: canned responses (B30), knowledge base articles (B31) and the
//! colleagues to @mention in notes (B26).
//! Fetched from the server when it can be reached and kept in the cache, so the composer's
//! pickers work offline too.

use switchboard_protocol::{
    Article, ArticleSearch, CannedResponse, Endpoint, GetCannedResponses, GetColleagues,
    OperatorRef, SearchArticles,
};

use crate::{Core, CoreError, lock};

impl Core {
    /// The operator's canned responses, personal and of their live chats. Answers from the
    /// cache when the server cannot be reached; empty when signed out.
    pub async fn canned_responses(&self) -> Result<Vec<CannedResponse>, CoreError> {
        let Some(token) = self.inner.token() else {
            return Ok(Vec::new());
        };
        let fetched = self
            .inner
            .rest::<GetCannedResponses>(GetCannedResponses::PATH, Some(&token), None::<&()>)
            .await;
        match fetched {
            Ok(canned) => {
                lock(&self.inner.cache).store_canned_responses(&canned)?;
                Ok(canned)
            }
            Err(CoreError::Unreachable(reason)) => {
                tracing::info!(%reason, "canned responses not reachable; answering from the cache");
                match lock(&self.inner.cache).canned_responses() {
                    Some(cached) => Ok(cached),
                    None => Err(CoreError::Unreachable(reason)),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// Knowledge base articles matching `query`, searched on the server. Offline, the results
    /// of the last search that reached the server; empty when signed out.
    pub async fn search_articles(&self, query: &str) -> Result<Vec<Article>, CoreError> {
        let Some(token) = self.inner.token() else {
            return Ok(Vec::new());
        };
        let search = ArticleSearch {
            query: query.to_owned(),
        };
        let fetched = self
            .inner
            .rest::<SearchArticles>(SearchArticles::PATH, Some(&token), Some(&search))
            .await;
        match fetched {
            Ok(articles) => {
                lock(&self.inner.cache).store_last_articles(&articles)?;
                Ok(articles)
            }
            Err(CoreError::Unreachable(reason)) => {
                tracing::info!(%reason, "articles not reachable; answering with the last results");
                match lock(&self.inner.cache).last_articles() {
                    Some(cached) => Ok(cached),
                    None => Err(CoreError::Unreachable(reason)),
                }
            }
            Err(error) => Err(error),
        }
    }

    /// The other staff of the operator's live chats, for @mentions (B26). Answers from the
    /// cache when the server cannot be reached; empty when signed out.
    pub async fn colleagues(&self) -> Result<Vec<OperatorRef>, CoreError> {
        let Some(token) = self.inner.token() else {
            return Ok(Vec::new());
        };
        let fetched = self
            .inner
            .rest::<GetColleagues>(GetColleagues::PATH, Some(&token), None::<&()>)
            .await;
        match fetched {
            Ok(colleagues) => {
                lock(&self.inner.cache).store_colleagues(&colleagues)?;
                Ok(colleagues)
            }
            Err(CoreError::Unreachable(reason)) => {
                tracing::info!(%reason, "colleagues not reachable; answering from the cache");
                match lock(&self.inner.cache).colleagues() {
                    Some(cached) => Ok(cached),
                    None => Err(CoreError::Unreachable(reason)),
                }
            }
            Err(error) => Err(error),
        }
    }
}
