/**
 * Value of the `X-Arkor-Client` header sent on every cloud-api request.
 *
 * The cloud-api runs an SDK version gate on this header (docs/arkor-protocol.md §1.3, §10.2): a missing or
 * malformed value, or a version outside the supported range, is answered with 426. Whether the
 * gate accepts a product token other than `arkor` is unknown, so we impersonate the official SDK
 * release whose wire behaviour this client conforms to (`arkor` 0.0.3-alpha.1). Bump it only
 * together with a review of the protocol document against that SDK version.
 */
export const ARKOR_CLIENT_HEADER = 'arkor/0.0.3-alpha.1';

/** The SDK version part of {@link ARKOR_CLIENT_HEADER} (used in deprecation notices). */
export const ARKOR_SDK_VERSION = ARKOR_CLIENT_HEADER.slice('arkor/'.length);
