"""What the clerk reads when something goes wrong: what happened and what to do next.

Japanese is the source text. ``MESSAGES_EN`` contains an English text for every key, which the UI
shows when the terminal's language is ``en``. Keys are the ``ErrorCode`` values, ``unreachable``
and ``protocol_error`` for the ``terminal.api_client`` failures, and the terminal's own checks
(keypad, scanner, sale).

Some texts contain ``str.format`` fields such as ``{max_amount}``; ``message_for`` fills them from
its keyword arguments.
"""

from __future__ import annotations

from typing import Literal

from terminal.api_client import ApiError, ProtocolError, Unreachable
from terminal.protocol import ErrorCode

Language = Literal["ja", "en"]

UNREACHABLE = "unreachable"
PROTOCOL_ERROR = "protocol_error"
UNKNOWN_ERROR = "unknown_error"
AMOUNT_TOO_LARGE = "amount_too_large"
TOO_MANY_DIGITS = "too_many_digits"
AMOUNT_MISSING = "amount_missing"
AMOUNT_NOT_COMMITTED = "amount_not_committed"
NO_ITEMS = "no_items"
CODE_ALREADY_SENT = "code_already_sent"
CODE_MALFORMED = "code_malformed"
OUTCOME_UNKNOWN = "outcome_unknown"
OUTCOME_CHECKED_LATER = "outcome_checked_later"
SCANNER_KANA_MODE = "scanner_kana_mode"
SCANNER_DATA_UNREADABLE = "scanner_data_unreadable"
SCANNER_DATA_UNTERMINATED = "scanner_data_unterminated"
SCANNER_DISCONNECTED = "scanner_disconnected"
SCANNER_CONNECTED = "scanner_connected"
SCANNER_DEVICE_UNUSABLE = "scanner_device_unusable"
SCANNER_DEVICE_BUSY = "scanner_device_busy"
CAMERA_DECODER_MISSING = "camera_decoder_missing"
CAMERA_UNAVAILABLE = "camera_unavailable"
CAMERA_NOT_FOUND = "camera_not_found"
CAMERA_FAILED = "camera_failed"
SHOW_OFFLINE_CODE = "show_offline_code"
OFFLINE_NO_ISSUER_KEYS = "offline_no_issuer_keys"
OFFLINE_CERTIFICATE_EXPIRED = "offline_certificate_expired"
OFFLINE_CODE_TOO_OLD = "offline_code_too_old"
OFFLINE_CODE_FROM_FUTURE = "offline_code_from_future"
OFFLINE_CODE_USED = "offline_code_used"
OFFLINE_PAYMENT_TOO_LARGE = "offline_payment_too_large"
OFFLINE_WAITING_TOTAL_FULL = "offline_waiting_total_full"
OFFLINE_WAITING_COUNT_FULL = "offline_waiting_count_full"
OFFLINE_WAITING_TOO_OLD = "offline_waiting_too_old"
STORE_WRITE_FAILED = "store_write_failed"
CLOCK_WRONG = "clock_wrong"
QR_NEEDS_CONNECTION = "qr_needs_connection"
SYNC_DECLINED_OFFLINE = "sync_declined_offline"
SYNC_DECLINED_REFUND = "sync_declined_refund"
SYNC_DECLINED_OTHER = "sync_declined_other"
REFUND_INSUFFICIENT_FUNDS = "refund_insufficient_funds"
REFUND_LEFT_EXCEEDED = "refund_left_exceeded"
REFUND_NOTHING_LEFT = "refund_nothing_left"
REFUND_PAYMENT_NOT_FOUND = "refund_payment_not_found"
CASH_OUT_BELOW_FEE = "cash_out_below_fee"

MESSAGES_JA: dict[str, str] = {
    ErrorCode.INVALID_REQUEST: (
        "サーバーが要求を受け付けませんでした。もう一度お試しください。"
        "続く場合はサポートに連絡してください。"
    ),
    ErrorCode.UNAUTHENTICATED: (
        "この端末は認証されませんでした。端末の時計が正しいか確認し、"
        "直らない場合は技術担当者に端末の再登録を依頼してください。"
    ),
    ErrorCode.FORBIDDEN: (
        "この端末ではこの操作はできません。店舗の管理者に確認してください。"
    ),
    ErrorCode.NOT_FOUND: (
        "取引が見つかりません。取引番号を確認して、もう一度お試しください。"
    ),
    ErrorCode.INSUFFICIENT_FUNDS: (
        "残高が足りません。お客様に別の支払い方法をお願いしてください。"
    ),
    ErrorCode.CODE_INVALID: (
        "このコードは使えません。アプリに表示された支払いコードを読み取ってください。"
    ),
    ErrorCode.CODE_EXPIRED: (
        "コードの有効期限が切れています。アプリでコードを新しく表示してもらい、"
        "もう一度読み取ってください。"
    ),
    ErrorCode.CODE_USED: (
        "このコードは使用済みです。アプリでコードを新しく表示してもらい、"
        "もう一度読み取ってください。"
    ),
    ErrorCode.INTENT_EXPIRED: (
        "QRコードの有効期限が切れました。もう一度お支払いを始めてください。"
    ),
    ErrorCode.INTENT_CANCELLED: (
        "このお支払いは取り消されています。もう一度お支払いを始めてください。"
    ),
    ErrorCode.INTENT_ALREADY_PAID: (
        "このお支払いはすでに完了しています。取引履歴で確認してください。"
    ),
    ErrorCode.AMOUNT_MISMATCH: (
        "金額が一致しません。金額を確認して、もう一度お支払いを始めてください。"
    ),
    ErrorCode.REFUND_EXCEEDS_PAYMENT: (
        "返金額が返金できる残りの金額を超えています。金額を確認してください。"
    ),
    ErrorCode.IDEMPOTENCY_CONFLICT: (
        "同じ取引が別の内容で送信されています。取引履歴を確認してから、"
        "新しいお会計として始めてください。"
    ),
    ErrorCode.ACTIVATION_INVALID: (
        "アクティベーションコードが正しくないか、使用済みです。"
        "運営事務局に新しいアクティベーションコードの発行を依頼してください。"
    ),
    ErrorCode.DEMO_DISABLED: (
        "このサーバーではデモ機能が使えません。技術担当者に確認してください。"
    ),
    ErrorCode.PAYLOAD_TOO_LARGE: (
        "送信する内容が大きすぎるため、サーバーが受け付けませんでした。"
        "もう一度お試しください。続く場合はサポートに連絡してください。"
    ),
    UNREACHABLE: (
        "サーバーに接続できません。ネットワークの接続を確認して、もう一度お試しください。"
    ),
    PROTOCOL_ERROR: (
        "サーバーから読み取れない応答がありました。取引履歴で結果を確認してください。"
        "続く場合はサポートに連絡してください。"
    ),
    UNKNOWN_ERROR: (
        "エラーが発生しました。取引履歴で結果を確認してください。"
        "続く場合はサポートに連絡してください。"
    ),
    AMOUNT_TOO_LARGE: (
        "金額が上限（{max_amount}）を超えます。金額を確認してください。"
    ),
    TOO_MANY_DIGITS: (
        "これ以上の桁は入力できません。金額を確認してください。"
    ),
    AMOUNT_MISSING: (
        "金額が入力されていません。金額を入力してから「10%で確定」または"
        "「8%（軽減）で確定」を押してください。"
    ),
    AMOUNT_NOT_COMMITTED: (
        "入力中の金額があります。「10%で確定」または「8%（軽減）で確定」を押してください。"
    ),
    NO_ITEMS: (
        "お会計する金額がありません。テンキーで金額を入力してください。"
    ),
    CODE_ALREADY_SENT: (
        "このコードは読み取り済みです。結果が表示されるまでお待ちください。"
    ),
    CODE_MALFORMED: (
        "支払いコードを正しく読み取れませんでした。もう一度読み取ってください。"
    ),
    OUTCOME_UNKNOWN: (
        "支払いの結果を確認できていません。「再送」を押して結果を確認してください。"
    ),
    OUTCOME_CHECKED_LATER: (
        "この支払いの結果はまだわかりません。端末が自動で確認し、"
        "承認されていた場合は画面上部に表示します。それまで同じお客様の会計をやり直さないでください。"
    ),
    SCANNER_KANA_MODE: (
        "スキャナーの文字がかなで入力されました。日本語入力をオフ（半角英数）にして、"
        "もう一度読み取ってください。"
    ),
    SCANNER_DATA_UNREADABLE: (
        "スキャナーから読み取れないデータが届きました。もう一度読み取ってください。"
        "続く場合は、技術担当者にスキャナーの通信速度（ボーレート）の設定を確認してもらってください。"
    ),
    SCANNER_DATA_UNTERMINATED: (
        "スキャナーからのデータが途中で止まりました。もう一度読み取ってください。"
        "続く場合は、技術担当者にスキャナーの末尾文字（サフィックス）の設定を確認してもらってください。"
    ),
    SCANNER_DISCONNECTED: (
        "スキャナーが外れました。スキャナーのケーブルを差し直してください。"
        "つながると自動で使えるようになります。"
    ),
    SCANNER_CONNECTED: "スキャナーがつながりました。読み取りができます。",
    SCANNER_DEVICE_UNUSABLE: (
        "この端末はスキャナーを開けないため、読み取りができません。技術担当者に連絡してください。"
    ),
    SCANNER_DEVICE_BUSY: (
        "スキャナーが別のプログラムに使われているため、読み取りができません。"
        "端末を再起動し、直らない場合は技術担当者に連絡してください。"
    ),
    CAMERA_DECODER_MISSING: (
        "カメラでコードを読み取る部品（libzbar0 または zxing-cpp）が入っていないため、"
        "カメラは使えません。ほかの操作はできます。技術担当者に連絡してください。"
    ),
    CAMERA_UNAVAILABLE: (
        "この端末にはカメラを動かす部品が入っていないため、カメラは使えません。"
        "ほかの操作はできます。技術担当者に連絡してください。"
    ),
    CAMERA_NOT_FOUND: (
        "設定されたカメラが見つかりません。カメラがつながっているか確認し、"
        "直らない場合は技術担当者に連絡してください。"
    ),
    CAMERA_FAILED: (
        "カメラが止まりました。端末を再起動してください。直らない場合は技術担当者に連絡してください。"
    ),
    ErrorCode.OFFLINE_CODE_INVALID: (
        "このオフライン支払いコードは確認できませんでした。"
        "お客様に別の支払い方法をお願いしてください。"
    ),
    ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED: (
        "オフラインで使える金額を超えています。お客様に別の支払い方法をお願いしてください。"
    ),
    ErrorCode.WALLET_BLOCKED: (
        "このウォレットは利用が停止されています。お客様に別の支払い方法をお願いしてください。"
    ),
    ErrorCode.CERTIFICATE_ACTIVE: (
        "オフライン支払いの準備はすでに済んでいます。アプリの表示を確認してください。"
    ),
    ErrorCode.BANK_ACCOUNT_MISSING: (
        "円に交換した代金の振込先の銀行口座が登録されていません。"
        "運営事務局に口座の登録を依頼してください。"
    ),
    ErrorCode.FEE_PLAN_MISSING: (
        "手数料プランが設定されていないため、円に交換できません。運営事務局に連絡してください。"
    ),
    ErrorCode.AMOUNT_BELOW_FEE: (
        "金額が手数料より少ないため、円に交換できません。手数料より多い金額にしてください。"
    ),
    CASH_OUT_BELOW_FEE: (
        "この金額の手数料は {fee} で、振り込む金額が残らないため、円に交換できません。"
        "手数料より多い金額にしてください。"
    ),
    SHOW_OFFLINE_CODE: (
        "サーバーに接続できないため、通常の支払いコードは使えません。"
        "お客様にアプリの「オフライン支払い」のコードを表示してもらい、読み取ってください。"
    ),
    OFFLINE_NO_ISSUER_KEYS: (
        "この端末はまだオフライン支払いを確認できません。"
        "お客様に別の支払い方法をお願いし、ネットワークの接続を確認してください。"
    ),
    OFFLINE_CERTIFICATE_EXPIRED: (
        "お客様のオフライン支払いの有効期限が切れています。"
        "お客様に別の支払い方法をお願いしてください。"
    ),
    OFFLINE_CODE_TOO_OLD: (
        "このオフライン支払いコードは古すぎます。"
        "アプリでコードを新しく表示してもらい、もう一度読み取ってください。"
    ),
    OFFLINE_CODE_FROM_FUTURE: (
        "コードの時刻が端末の時計より先になっています。"
        "端末とスマートフォンの時計を確認し、お客様に別の支払い方法をお願いしてください。"
    ),
    OFFLINE_CODE_USED: (
        "このオフライン支払いコードは使用済みです。"
        "アプリでコードを新しく表示してもらい、もう一度読み取ってください。"
    ),
    OFFLINE_PAYMENT_TOO_LARGE: (
        "オフラインでの支払いは1回{max_offline_amount}までです。"
        "お客様に別の支払い方法をお願いしてください。"
    ),
    OFFLINE_WAITING_TOTAL_FULL: (
        "未送信のオフライン支払いの合計が上限に達しました。"
        "お客様に別の支払い方法をお願いし、ネットワークの接続を確認してください。"
    ),
    OFFLINE_WAITING_COUNT_FULL: (
        "未送信のオフライン支払いの件数が上限に達しました。"
        "お客様に別の支払い方法をお願いし、ネットワークの接続を確認してください。"
    ),
    OFFLINE_WAITING_TOO_OLD: (
        "長い時間送信できていないオフライン支払いがあります。"
        "お客様に別の支払い方法をお願いし、ネットワークの接続を確認してください。"
    ),
    STORE_WRITE_FAILED: (
        "取引を端末に保存できませんでした。この支払いは完了していません。"
        "端末を再起動し、続く場合はサポートに連絡してください。"
    ),
    CLOCK_WRONG: (
        "端末の時計が正しくありません。取引は続けられますが、端末の日時を合わせてください。"
    ),
    QR_NEEDS_CONNECTION: (
        "サーバーに接続できないため、QRでのお支払いはできません。"
        "「コードを読む」を押し、お客様のアプリのオフライン用コードを読み取ってください。"
    ),
    SYNC_DECLINED_OFFLINE: (
        "サーバーがこのオフライン支払いを受け付けなかったため、代金は入金されません。"
        "店舗の責任者がサポートに連絡してください。"
    ),
    SYNC_DECLINED_REFUND: (
        "サーバーがこの返金を受け付けなかったため、返金は行われていません。"
        "元の取引を確認し、店舗の責任者がサポートに連絡してください。"
    ),
    SYNC_DECLINED_OTHER: (
        "サーバーがこの取引を受け付けませんでした。店舗の責任者がサポートに連絡してください。"
    ),
    REFUND_INSUFFICIENT_FUNDS: (
        "お店の残高が足りないため返金できません。円への交換の状況を確認し、"
        "店長または運営に連絡してください。"
    ),
    REFUND_LEFT_EXCEEDED: (
        "返金額が、この取引で返金できる残り {left} を超えています。"
        "{left} 以下の金額を入力してください。"
    ),
    REFUND_NOTHING_LEFT: (
        "この取引で返金できる残りは {left} です。これ以上は返金できません。"
        "返金済みの分は取引履歴で確認してください。"
    ),
    REFUND_PAYMENT_NOT_FOUND: (
        "元の取引がサーバーに見つからないため、返金できません。取引履歴を「更新」して"
        "取引を選び直してください。続く場合は店舗の責任者がサポートに連絡してください。"
    ),
}

MESSAGES_EN: dict[str, str] = {
    ErrorCode.INVALID_REQUEST: (
        "The server did not accept the request. Try again, and contact support if it repeats."
    ),
    ErrorCode.UNAUTHENTICATED: (
        "This terminal was not authenticated. Check the terminal's clock; if that does not "
        "help, ask a technician to enrol the terminal again."
    ),
    ErrorCode.FORBIDDEN: "This terminal may not do this. Ask the shop manager.",
    ErrorCode.NOT_FOUND: (
        "The transaction was not found. Check the transaction number and try again."
    ),
    ErrorCode.INSUFFICIENT_FUNDS: (
        "The balance is not enough. Ask the customer for another way to pay."
    ),
    ErrorCode.CODE_INVALID: (
        "This code cannot be used. Scan the payment code shown in the app."
    ),
    ErrorCode.CODE_EXPIRED: (
        "The code has expired. Ask the customer to show a new code in the app, then scan it again."
    ),
    ErrorCode.CODE_USED: (
        "This code has already been used. Ask the customer to show a new code in the app, "
        "then scan it again."
    ),
    ErrorCode.INTENT_EXPIRED: "The QR code has expired. Start the payment again.",
    ErrorCode.INTENT_CANCELLED: "This payment was cancelled. Start the payment again.",
    ErrorCode.INTENT_ALREADY_PAID: (
        "This payment is already complete. Check it in the transaction history."
    ),
    ErrorCode.AMOUNT_MISMATCH: (
        "The amounts do not match. Check the amount and start the payment again."
    ),
    ErrorCode.REFUND_EXCEEDS_PAYMENT: (
        "The refund is more than the amount left to refund. Check the amount."
    ),
    ErrorCode.IDEMPOTENCY_CONFLICT: (
        "The same transaction was sent with different details. Check the transaction history, "
        "then start a new sale."
    ),
    ErrorCode.ACTIVATION_INVALID: (
        "The activation code is wrong or already used. Ask the operator's office for a new "
        "activation code."
    ),
    ErrorCode.DEMO_DISABLED: "Demo features are off on this server. Ask a technician.",
    ErrorCode.PAYLOAD_TOO_LARGE: (
        "The server rejected the request because it was too large. Try again, and contact "
        "support if it repeats."
    ),
    UNREACHABLE: "Cannot connect to the server. Check the network connection and try again.",
    PROTOCOL_ERROR: (
        "The server sent a response the terminal cannot read. Check the result in the "
        "transaction history, and contact support if it repeats."
    ),
    UNKNOWN_ERROR: (
        "An error occurred. Check the result in the transaction history, and contact support "
        "if it repeats."
    ),
    AMOUNT_TOO_LARGE: "The amount is over the limit ({max_amount}). Check the amount.",
    TOO_MANY_DIGITS: "No more digits can be entered. Check the amount.",
    AMOUNT_MISSING: (
        "No amount has been entered. Enter an amount, then press Add at 10% or "
        "Add at 8% (reduced)."
    ),
    AMOUNT_NOT_COMMITTED: (
        "An amount is still being entered. Press Add at 10% or Add at 8% (reduced) to add it."
    ),
    NO_ITEMS: "There is nothing to pay for. Enter an amount on the keypad.",
    CODE_ALREADY_SENT: "This code has already been scanned. Wait for the result.",
    CODE_MALFORMED: "The payment code was not read correctly. Scan it again.",
    OUTCOME_UNKNOWN: (
        "The payment result is not confirmed yet. Press Resend to get the result."
    ),
    OUTCOME_CHECKED_LATER: (
        "The result of this payment is not known yet. The terminal checks it by itself and "
        "shows it at the top of the screen if it was approved. Until then, do not ring up "
        "this customer's sale again."
    ),
    SCANNER_KANA_MODE: (
        "The scanner typed kana. Turn Japanese input off (half-width alphanumeric) and scan "
        "again."
    ),
    SCANNER_DATA_UNREADABLE: (
        "The scanner sent data that cannot be read. Scan again, and if it repeats, ask a "
        "technician to check the scanner's baud rate."
    ),
    SCANNER_DATA_UNTERMINATED: (
        "The scanner's data stopped before the end of the code. Scan again, and if it "
        "repeats, ask a technician to check the scanner's suffix setting."
    ),
    SCANNER_DISCONNECTED: (
        "The scanner is disconnected. Plug its cable back in; it works again as soon as it "
        "is connected."
    ),
    SCANNER_CONNECTED: "The scanner is connected and ready to scan.",
    SCANNER_DEVICE_UNUSABLE: (
        "This terminal cannot open the scanner, so it cannot scan. Call a technician."
    ),
    SCANNER_DEVICE_BUSY: (
        "Another program is using the scanner, so it cannot scan. Restart the terminal, and "
        "call a technician if that does not help."
    ),
    CAMERA_DECODER_MISSING: (
        "The camera cannot read codes because no QR decoder (libzbar0 or zxing-cpp) is "
        "installed. Everything else works. Contact your technician."
    ),
    CAMERA_UNAVAILABLE: (
        "The camera cannot be used because this terminal lacks the camera libraries. "
        "Everything else works. Contact your technician."
    ),
    CAMERA_NOT_FOUND: (
        "The configured camera was not found. Check that it is connected, and contact your "
        "technician if it still does not work."
    ),
    CAMERA_FAILED: (
        "The camera stopped. Restart the terminal, and contact your technician if it happens "
        "again."
    ),
    ErrorCode.OFFLINE_CODE_INVALID: (
        "This offline payment code could not be verified. Ask the customer for another way "
        "to pay."
    ),
    ErrorCode.OFFLINE_ALLOWANCE_EXCEEDED: (
        "This is more than the wallet may spend offline. Ask the customer for another way "
        "to pay."
    ),
    ErrorCode.WALLET_BLOCKED: (
        "This wallet is blocked. Ask the customer for another way to pay."
    ),
    ErrorCode.CERTIFICATE_ACTIVE: (
        "Offline payment is already set up for this wallet. Check the app."
    ),
    ErrorCode.BANK_ACCOUNT_MISSING: (
        "No bank account is registered for cash-outs. Ask the operator to register it."
    ),
    ErrorCode.FEE_PLAN_MISSING: (
        "Cash-outs are not possible because no fee plan is set. Contact the operator."
    ),
    ErrorCode.AMOUNT_BELOW_FEE: (
        "The amount does not cover the fee, so it cannot be cashed out. Enter a larger amount."
    ),
    CASH_OUT_BELOW_FEE: (
        "The fee for this amount is {fee}, which leaves nothing to pay out, so it cannot be "
        "cashed out. Enter an amount larger than the fee."
    ),
    SHOW_OFFLINE_CODE: (
        "The server cannot be reached, so the usual payment code cannot be used. Ask the "
        "customer to show the Offline payment code in the app, and scan that."
    ),
    OFFLINE_NO_ISSUER_KEYS: (
        "This terminal cannot verify offline payments yet. Ask the customer for another way "
        "to pay, and check the network connection."
    ),
    OFFLINE_CERTIFICATE_EXPIRED: (
        "The customer's offline payment has expired. Ask the customer for another way to pay."
    ),
    OFFLINE_CODE_TOO_OLD: (
        "This offline payment code is too old. Ask the customer to show a new code in the "
        "app, then scan it again."
    ),
    OFFLINE_CODE_FROM_FUTURE: (
        "The code's time is ahead of the terminal's clock. Check the clocks of the terminal "
        "and the phone, and ask the customer for another way to pay."
    ),
    OFFLINE_CODE_USED: (
        "This offline payment code has already been used. Ask the customer to show a new "
        "code in the app, then scan it again."
    ),
    OFFLINE_PAYMENT_TOO_LARGE: (
        "Offline payments are limited to {max_offline_amount} each. Ask the customer for "
        "another way to pay."
    ),
    OFFLINE_WAITING_TOTAL_FULL: (
        "Unsent offline payments have reached their total limit. Ask the customer for "
        "another way to pay, and check the network connection."
    ),
    OFFLINE_WAITING_COUNT_FULL: (
        "Unsent offline payments have reached their number limit. Ask the customer for "
        "another way to pay, and check the network connection."
    ),
    OFFLINE_WAITING_TOO_OLD: (
        "An offline payment has not been sent for a long time. Ask the customer for another "
        "way to pay, and check the network connection."
    ),
    STORE_WRITE_FAILED: (
        "The transaction could not be saved on the terminal, so this payment is not complete. "
        "Restart the terminal, and contact support if it repeats."
    ),
    CLOCK_WRONG: (
        "The terminal's clock is wrong. Sales can continue, but set the terminal's date and "
        "time."
    ),
    QR_NEEDS_CONNECTION: (
        "QR payment needs a connection to the server, which is unreachable. Press "
        "\"Scan code\" and scan the offline code in the customer's app."
    ),
    SYNC_DECLINED_OFFLINE: (
        "The server did not accept this offline payment, so it will not be paid to the shop. "
        "The shop manager should contact support."
    ),
    SYNC_DECLINED_REFUND: (
        "The server did not accept this refund, so nothing was refunded. Check the original "
        "transaction; the shop manager should contact support."
    ),
    SYNC_DECLINED_OTHER: (
        "The server did not accept this transaction. The shop manager should contact support."
    ),
    REFUND_INSUFFICIENT_FUNDS: (
        "The shop's balance is too low to give this refund. Check the exchanges to yen, and "
        "contact the shop manager or the operator."
    ),
    REFUND_LEFT_EXCEEDED: (
        "The refund is more than the {left} left to refund of this payment. Enter {left} or "
        "less."
    ),
    REFUND_NOTHING_LEFT: (
        "{left} is left to refund of this payment, so nothing more can be refunded. Check the "
        "refunds already made in the transaction history."
    ),
    REFUND_PAYMENT_NOT_FOUND: (
        "The original payment was not found on the server, so it cannot be refunded. Press "
        "\"Reload\" in the transaction history and choose the payment again. If this repeats, "
        "the shop manager should contact support."
    ),
}

# --- coupons ---------------------------------------------------------------------------------
# Coupon reasons: the server's coupon_* error codes and the terminal's own checks.
NO_ISSUER_KEYS = "coupon_no_issuer_keys"
NEEDS_CONNECTION = "coupon_needs_connection"
STILL_CHECKING = "coupon_still_checking"
REMOVE_REJECTED = "coupon_remove_rejected"
CHECK_FAILED = "coupon_check_failed"
# A payment code scanned together with its coupon (terminal.coupon_pairing).
PAIRED_NOT_PAID = "coupon_paired_not_paid"
ONE_COUPON_PER_SALE = "coupon_one_per_sale"

COUPON_MESSAGES_JA: dict[str, str] = {
    ErrorCode.COUPON_MALFORMED: (
        "クーポンを読み取れませんでした。お客様にクーポンをもう一度表示してもらい、"
        "読み取ってください。"
    ),
    ErrorCode.COUPON_UNKNOWN_ISSUER: (
        "このクーポンを確認できませんでした。もう一度表示してもらい、読み取り直すか、"
        "クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_BAD_SIGNATURE: (
        "このクーポンは正しくありません。お客様にアプリのクーポンをもう一度表示してもらい、"
        "読み取ってください。"
    ),
    ErrorCode.COUPON_NOT_YET_VALID: (
        "このクーポンはまだ使えません（利用開始前です）。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_EXPIRED: (
        "このクーポンは有効期限が切れています。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_WRONG_SHOP: (
        "このクーポンはこのお店では使えません。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_WRONG_WALLET: (
        "このクーポンはお支払いのアプリとは別の方のものです。クーポンを外して、"
        "もう一度お支払いを始めてください。"
    ),
    ErrorCode.COUPON_BELOW_MINIMUM: (
        "このクーポンは {minimum} 以上のお買い上げで使えます。商品を追加するか、"
        "クーポンを外してください。"
    ),
    ErrorCode.COUPON_NOT_FOUND: (
        "このクーポンはサーバーに登録がありません。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_USED: (
        "このクーポンは使用済みです。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_WITHDRAWN: (
        "このクーポンのキャンペーンは終了しました。クーポンなしでお会計してください。"
    ),
    ErrorCode.COUPON_DISCOUNT_MISMATCH: (
        "割引額がサーバーの計算と一致しませんでした。クーポンを外して、"
        "もう一度読み取ってください。"
    ),
    NO_ISSUER_KEYS: (
        "この端末はまだクーポンを確認できません。ネットワークの接続を確認するか、"
        "クーポンなしでお会計してください。"
    ),
    NEEDS_CONNECTION: (
        "このクーポンはサーバーにつながっているときだけ使えます。"
        "クーポンなしでお会計してください。"
    ),
    STILL_CHECKING: (
        "クーポンの割引を確認しています。割引が表示されてから、もう一度お支払いを"
        "始めてください。"
    ),
    CHECK_FAILED: (
        "クーポンを確認できませんでした。もう一度読み取るか、クーポンなしでお会計してください。"
    ),
    REMOVE_REJECTED: (
        "使えないクーポンが付いています。「クーポンを外す」を押してから、もう一度お支払いを"
        "始めてください。"
    ),
    PAIRED_NOT_PAID: (
        "お支払いはしていません。「クーポンを外す」を押し、"
        "クーポンなしの支払いコードを読み取ってください。"
    ),
    ONE_COUPON_PER_SALE: (
        "このお会計には別のクーポンが付いています。クーポンは1回のお会計に1枚です。"
        "お客様にクーポンなしの支払いコードを表示してもらうか、「戻る」で付いているクーポンを"
        "外してから読み取ってください。"
    ),
}

COUPON_MESSAGES_EN: dict[str, str] = {
    ErrorCode.COUPON_MALFORMED: (
        "The coupon could not be read. Ask the customer to show the coupon again, and scan it."
    ),
    ErrorCode.COUPON_UNKNOWN_ISSUER: (
        "This coupon could not be checked. Ask the customer to show it again and scan it, or "
        "ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_BAD_SIGNATURE: (
        "This coupon is not genuine. Ask the customer to show the coupon in the app again, and "
        "scan it."
    ),
    ErrorCode.COUPON_NOT_YET_VALID: (
        "This coupon cannot be used yet. Ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_EXPIRED: "This coupon has expired. Ring up the sale without the coupon.",
    ErrorCode.COUPON_WRONG_SHOP: (
        "This coupon is not valid at this shop. Ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_WRONG_WALLET: (
        "This coupon belongs to someone other than the paying app. Remove the coupon and start "
        "the payment again."
    ),
    ErrorCode.COUPON_BELOW_MINIMUM: (
        "This coupon needs a purchase of {minimum} or more. Add items, or remove the coupon."
    ),
    ErrorCode.COUPON_NOT_FOUND: (
        "The server does not know this coupon. Ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_USED: (
        "This coupon has already been used. Ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_WITHDRAWN: (
        "This coupon's campaign has ended. Ring up the sale without the coupon."
    ),
    ErrorCode.COUPON_DISCOUNT_MISMATCH: (
        "The discount did not match the server's. Remove the coupon and scan it again."
    ),
    NO_ISSUER_KEYS: (
        "This terminal cannot check coupons yet. Check the network connection, or ring up the "
        "sale without the coupon."
    ),
    NEEDS_CONNECTION: (
        "This coupon can only be used while the server is reachable. Ring up the sale without "
        "the coupon."
    ),
    STILL_CHECKING: (
        "The coupon discount is being checked. Start the payment again once the discount is "
        "shown."
    ),
    CHECK_FAILED: (
        "The coupon could not be checked. Scan it again, or ring up the sale without the coupon."
    ),
    REMOVE_REJECTED: (
        "A coupon that cannot be used is attached. Press \"Remove coupon\", then start the "
        "payment again."
    ),
    PAIRED_NOT_PAID: (
        "Nothing was paid. Press \"Remove coupon\" and scan a payment code without the coupon."
    ),
    ONE_COUPON_PER_SALE: (
        "This sale already has another coupon, and a sale takes one coupon. Ask the customer "
        "to show a payment code without the coupon, or go \"Back\" and remove the attached "
        "coupon before scanning."
    ),
}


RALLY_MESSAGES_JA: dict[str, str] = {
    ErrorCode.RALLY_CODE_INVALID: (
        "スタンプラリーの参加コードとして読み取れませんでした。"
        "参加者にアプリの参加コードをもう一度表示してもらってください。"
    ),
    ErrorCode.RALLY_NOT_OPEN: (
        "このスタンプラリーは今は開催していないか、この端末はブースに登録されていません。"
        "運営事務局に確認してください。"
    ),
    ErrorCode.STAMP_ALREADY_GIVEN: (
        "この参加者には本日このブースでスタンプを押しています。次の参加者の参加コードを読み取ってください。"
    ),
}
RALLY_MESSAGES_EN: dict[str, str] = {
    ErrorCode.RALLY_CODE_INVALID: (
        "This is not a stamp rally participant code. Ask the participant to show the code in "
        "the app again."
    ),
    ErrorCode.RALLY_NOT_OPEN: (
        "This stamp rally is not running now, or this terminal is not one of its booths. Check "
        "with the operator."
    ),
    ErrorCode.STAMP_ALREADY_GIVEN: (
        "This participant already got today's stamp at this booth. Scan the next participant's "
        "code."
    ),
}
MESSAGES_JA.update(RALLY_MESSAGES_JA)
MESSAGES_EN.update(RALLY_MESSAGES_EN)

# --- rejected pay calls on a QR payment ------------------------------------------------------
# The server rejected a wallet's pay call, but the QR code stays valid. Each text therefore
# names what the customer or the clerk can do while the QR screen is still shown.
MPM_REJECTED_COUPON_WRONG_WALLET = "mpm_rejected_coupon_wrong_wallet"
MPM_REJECTED_COUPON = "mpm_rejected_coupon"  # {reason}: the coupon's own text
MPM_REJECTED_INSUFFICIENT_FUNDS = "mpm_rejected_insufficient_funds"
MPM_REJECTED_WALLET_BLOCKED = "mpm_rejected_wallet_blocked"
MPM_REJECTED_AMOUNT_MISMATCH = "mpm_rejected_amount_mismatch"
MPM_REJECTED_OTHER = "mpm_rejected_other"

MPM_REJECTION_MESSAGES_JA: dict[str, str] = {
    MPM_REJECTED_COUPON_WRONG_WALLET: (
        "このクーポンは別のお客様のものなので、お支払いできませんでした。"
        "クーポンの持ち主のアプリでQRコードを読み取ってもらうか、"
        "「取消」を押してクーポンを外し、もう一度お支払いを始めてください。"
    ),
    MPM_REJECTED_COUPON: "お支払いできませんでした。{reason}先に「取消」を押してください。",
    MPM_REJECTED_INSUFFICIENT_FUNDS: (
        "このお店で使える残高が足りないため、お支払いできませんでした。"
        "お客様にチャージしてからもう一度読み取ってもらうか、"
        "「取消」を押して別の支払い方法にしてください。"
    ),
    MPM_REJECTED_WALLET_BLOCKED: (
        "このお客様のアプリは利用が停止されているため、お支払いできませんでした。"
        "「取消」を押して、お客様に別の支払い方法をお願いしてください。"
    ),
    MPM_REJECTED_AMOUNT_MISMATCH: (
        "お客様のアプリから届いた金額がQRコードの金額と違うため、お支払いできませんでした。"
        "お客様にもう一度QRコードを読み取ってもらってください。"
    ),
    MPM_REJECTED_OTHER: (
        "お客様のアプリからのお支払いを、サーバーが受け付けませんでした。"
        "お客様にもう一度読み取ってもらうか、「取消」を押して別の支払い方法にしてください。"
    ),
}
MPM_REJECTION_MESSAGES_EN: dict[str, str] = {
    MPM_REJECTED_COUPON_WRONG_WALLET: (
        "The payment did not go through because the coupon belongs to another customer. Ask "
        "the coupon's owner to scan the QR code with their app, or press Cancel, remove the "
        "coupon and start the payment again."
    ),
    MPM_REJECTED_COUPON: "The payment did not go through. {reason} Press Cancel first.",
    MPM_REJECTED_INSUFFICIENT_FUNDS: (
        "The payment did not go through because the balance usable at this shop is too low. "
        "Ask the customer to top up and scan again, or press Cancel and take another way to pay."
    ),
    MPM_REJECTED_WALLET_BLOCKED: (
        "The payment did not go through because the customer's wallet is blocked. Press "
        "Cancel and ask the customer for another way to pay."
    ),
    MPM_REJECTED_AMOUNT_MISMATCH: (
        "The payment did not go through because the amount sent by the customer's app differs "
        "from the QR code's amount. Ask the customer to scan the QR code again."
    ),
    MPM_REJECTED_OTHER: (
        "The server rejected the payment from the customer's app. Ask the customer to scan "
        "again, or press Cancel and take another way to pay."
    ),
}
MESSAGES_JA.update(MPM_REJECTION_MESSAGES_JA)
MESSAGES_EN.update(MPM_REJECTION_MESSAGES_EN)

_MPM_REJECTION_KEYS: dict[str, str] = {
    ErrorCode.COUPON_WRONG_WALLET: MPM_REJECTED_COUPON_WRONG_WALLET,
    ErrorCode.INSUFFICIENT_FUNDS: MPM_REJECTED_INSUFFICIENT_FUNDS,
    ErrorCode.WALLET_BLOCKED: MPM_REJECTED_WALLET_BLOCKED,
    ErrorCode.AMOUNT_MISMATCH: MPM_REJECTED_AMOUNT_MISMATCH,
}


def mpm_rejection_key(code: str) -> str:
    """Return the message key for a wallet pay call the server rejected with ``code``.

    A coupon code other than ``coupon_wrong_wallet`` gets ``MPM_REJECTED_COUPON``, whose
    ``{reason}`` field takes the coupon's own text. A code this terminal does not know gets
    ``MPM_REJECTED_OTHER``.
    """
    if code in _MPM_REJECTION_KEYS:
        return _MPM_REJECTION_KEYS[code]
    if code.startswith("coupon_"):
        return MPM_REJECTED_COUPON
    return MPM_REJECTED_OTHER


def is_mpm_rejection(key: str | None) -> bool:
    """Return True when ``key`` is one of the rejected QR payment texts above."""
    return key in MPM_REJECTION_MESSAGES_JA

def _without_minimum(catalogue: dict[str, str], minimum: str) -> dict[str, str]:
    # The general catalogues have no minimum spend to show, so they name it in words.
    return {key: text.replace("{minimum}", minimum) for key, text in catalogue.items()}


MESSAGES_JA.update(_without_minimum(COUPON_MESSAGES_JA, "決められた金額"))
MESSAGES_EN.update(_without_minimum(COUPON_MESSAGES_EN, "the minimum amount"))


class _KeepMissingFields(dict[str, str]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


_CATALOGUES: dict[Language, dict[str, str]] = {"ja": MESSAGES_JA, "en": MESSAGES_EN}


def message_key(error: ApiError | ErrorCode | str) -> str:
    """Return the message key for an API failure, an error code or a key."""
    if isinstance(error, ApiError):
        if error.code is not None:
            return str(error.code)
        if isinstance(error, Unreachable):
            return UNREACHABLE
        if isinstance(error, ProtocolError):
            return PROTOCOL_ERROR
        return UNKNOWN_ERROR
    return str(error)


def refund_message_key(error: ApiError | ErrorCode | str) -> str:
    """Return the message key for a failed refund.

    A refund is paid from the shop's balance, not the customer's, so ``insufficient_funds`` gets
    its own text: the customer cannot help, and the shop's exchanges to yen are the usual cause.
    ``not_found`` names the original payment, which the clerk chose from the history and never
    typed. For ``refund_exceeds_payment`` with a known amount left, see ``refund_left_key``.
    """
    key = message_key(error)
    if key == ErrorCode.INSUFFICIENT_FUNDS:
        return REFUND_INSUFFICIENT_FUNDS
    if key == ErrorCode.NOT_FOUND:
        return REFUND_PAYMENT_NOT_FOUND
    return key


def refund_left_key(left_yen: int) -> str:
    """Return the key of the text for a refund above the ``left_yen`` still refundable.

    Both texts have a ``{left}`` field for that amount.
    """
    return REFUND_LEFT_EXCEEDED if left_yen > 0 else REFUND_NOTHING_LEFT


def message_for(error: ApiError | ErrorCode | str, lang: Language = "ja", **fields: str) -> str:
    """Return the clerk's message for ``error`` in ``lang``, with ``fields`` filled in.

    An unknown key returns the generic ``unknown_error`` text, so the clerk always sees advice.
    A field that is not given stays in the text as ``{name}``.
    """
    catalogue = _CATALOGUES[lang]
    text = catalogue.get(message_key(error), catalogue[UNKNOWN_ERROR])
    return text.format_map(_KeepMissingFields(fields))
