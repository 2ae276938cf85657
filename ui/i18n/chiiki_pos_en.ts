<?xml version='1.0' encoding='utf-8'?>
<TS version="2.1" language="en_US" sourcelanguage="ja_JP">
<context>
    <name>CpmScreen</name>
    <message>
        <location filename="../cpm.py" line="25" />
        <source>お客様のコードをスキャナーで読み取ってください</source>
        <translation>Scan the customer's code with the scanner</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="34" />
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="37" />
        <source>再送</source>
        <translation>Resend</translation>
    </message>
    <message>
        <location filename="../cpm.py" line="68" />
        <source>確認しています…</source>
        <translation>Checking…</translation>
    </message>
</context>
<context>
    <name>HistoryScreen</name>
    <message>
        <location filename="../history.py" line="132" />
        <source>取引履歴</source>
        <translation>Transaction history</translation>
    </message>
    <message>
        <location filename="../history.py" line="140" />
        <source>返金</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../history.py" line="143" />
        <source>更新</source>
        <translation>Reload</translation>
    </message>
    <message>
        <location filename="../history.py" line="145" />
        <source>戻る</source>
        <translation>Back</translation>
    </message>
    <message>
        <location filename="../history.py" line="159" />
        <source>読み込んでいます…</source>
        <translation>Loading…</translation>
    </message>
    <message>
        <location filename="../history.py" line="168" />
        <source>まだ取引がありません</source>
        <translation>No transactions yet</translation>
    </message>
    <message>
        <location filename="../history.py" line="173" />
        <source>QR</source>
        <translation>QR</translation>
    </message>
    <message>
        <location filename="../history.py" line="173" />
        <source>コード</source>
        <translation>Code</translation>
    </message>
    <message>
        <location filename="../history.py" line="176" />
        <source>返金済み</source>
        <translation>Refunded</translation>
    </message>
    <message>
        <location filename="../history.py" line="178" />
        <source>一部返金 {amount}</source>
        <translation>Partly refunded {amount}</translation>
    </message>
</context>
<context>
    <name>Keypad</name>
    <message>
        <location filename="../widgets.py" line="73" />
        <source>C（クリア）</source>
        <translation>C (Clear)</translation>
    </message>
</context>
<context>
    <name>MpmScreen</name>
    <message>
        <location filename="../mpm.py" line="19" />
        <source>スマートフォンでQRコードを読み取ってください</source>
        <translation>Scan this QR code with your smartphone</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="32" />
        <source>取消</source>
        <translation>Cancel</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="56" />
        <source>QRコードを準備しています…</source>
        <translation>Preparing the QR code…</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="65" />
        <source>取り消しています…</source>
        <translation>Cancelling…</translation>
    </message>
    <message>
        <location filename="../mpm.py" line="75" />
        <source>有効期限まで {minutes}:{seconds}</source>
        <translation>Expires in {minutes}:{seconds}</translation>
    </message>
</context>
<context>
    <name>PhoneWindow</name>
    <message>
        <location filename="../phone.py" line="62" />
        <source>お客様のスマートフォン（デモ）</source>
        <translation>Customer's smartphone (demo)</translation>
    </message>
    <message>
        <location filename="../phone.py" line="78" />
        <source>QRを読み取る</source>
        <translation>Scan QR</translation>
    </message>
    <message>
        <location filename="../phone.py" line="80" />
        <source>支払いコードを表示</source>
        <translation>Show payment code</translation>
    </message>
    <message>
        <location filename="../phone.py" line="82" />
        <source>スキャナーで読み取る</source>
        <translation>Read with scanner</translation>
    </message>
    <message>
        <location filename="../phone.py" line="87" />
        <source>残高</source>
        <translation>Balance</translation>
    </message>
    <message>
        <location filename="../phone.py" line="113" />
        <source>QRコードを読み取っています…</source>
        <translation>Reading the QR code…</translation>
    </message>
    <message>
        <location filename="../phone.py" line="123" />
        <source>{amount} を支払いました</source>
        <translation>Paid {amount}</translation>
    </message>
    <message>
        <location filename="../phone.py" line="138" />
        <source>お店の人にコードを読み取ってもらってください</source>
        <translation>Ask the shop to scan this code</translation>
    </message>
    <message>
        <location filename="../phone.py" line="151" />
        <source>QRコードが見つかりません。端末にQRコードを表示してください</source>
        <translation>No QR code found. Show the QR code on the terminal</translation>
    </message>
    <message>
        <location filename="../phone.py" line="153" />
        <source>お支払いできませんでした（{reason}）</source>
        <translation>Payment failed ({reason})</translation>
    </message>
    <message>
        <location filename="../phone.py" line="156" />
        <source>サーバーに接続できませんでした</source>
        <translation>Could not connect to the server</translation>
    </message>
    <message>
        <location filename="../phone.py" line="159" />
        <source>エラーが発生しました</source>
        <translation>An error occurred</translation>
    </message>
</context>
<context>
    <name>PinPad</name>
    <message>
        <location filename="../widgets.py" line="99" />
        <source>OK</source>
        <translation>OK</translation>
    </message>
    <message>
        <location filename="../widgets.py" line="102" />
        <source>やめる</source>
        <translation>Stop</translation>
    </message>
</context>
<context>
    <name>PinScreen</name>
    <message>
        <location filename="../refund.py" line="29" />
        <source>返金には責任者の暗証番号が必要です</source>
        <translation>A refund needs the manager's PIN</translation>
    </message>
    <message>
        <location filename="../refund.py" line="30" />
        <location filename="../refund.py" line="40" />
        <source>暗証番号を入力して「OK」を押してください</source>
        <translation>Enter the PIN and press OK</translation>
    </message>
    <message>
        <location filename="../refund.py" line="43" />
        <source>暗証番号が違います。もう一度入力してください</source>
        <translation>Wrong PIN. Enter it again</translation>
    </message>
</context>
<context>
    <name>Printing</name>
    <message>
        <location filename="../printing.py" line="49" />
        <source>レシートを印刷できませんでした。プリンターの電源・用紙・ケーブルを確認して「再印刷」を押してください。お支払いは完了しています。</source>
        <translation>The receipt did not print. Check the printer's power, paper and cable, then press Reprint. The payment is complete.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="55" />
        <source>プリンターの設定に問題があり、レシートを印刷できませんでした。お支払いは完了しています。技術担当者に連絡してください。</source>
        <translation>The receipt did not print because of a printer setting. The payment is complete. Contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="61" />
        <source>レシートを作れませんでした。お支払いは完了しています。「再印刷」で直らない場合は技術担当者に連絡してください。</source>
        <translation>The receipt could not be made. The payment is complete. If Reprint does not help, contact a technician.</translation>
    </message>
    <message>
        <location filename="../printing.py" line="67" />
        <source>レシートを印刷できませんでした。お支払いは完了しています。「再印刷」を押してください。</source>
        <translation>The receipt did not print. The payment is complete. Press Reprint.</translation>
    </message>
</context>
<context>
    <name>ReceiptPreview</name>
    <message>
        <location filename="../receipt_preview.py" line="43" />
        <source>レシート（プリンターエミュレーター）</source>
        <translation>Receipts (printer emulator)</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="45" />
        <source>印刷されたレシート</source>
        <translation>Printed receipts</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="46" />
        <source>まだ印刷されていません</source>
        <translation>Nothing printed yet</translation>
    </message>
    <message>
        <location filename="../receipt_preview.py" line="70" />
        <source>デモ情報: 返金に使う責任者暗証番号は {pin} です</source>
        <translation>Demo information: the manager PIN for refunds is {pin}</translation>
    </message>
</context>
<context>
    <name>RefundAmountScreen</name>
    <message>
        <location filename="../refund.py" line="56" />
        <source>返金する金額</source>
        <translation>Refund amount</translation>
    </message>
    <message>
        <location filename="../refund.py" line="67" />
        <source>全額</source>
        <translation>Full amount</translation>
    </message>
    <message>
        <location filename="../refund.py" line="69" />
        <source>やめる</source>
        <translation>Stop</translation>
    </message>
    <message>
        <location filename="../refund.py" line="71" />
        <source>返金する</source>
        <translation>Refund</translation>
    </message>
    <message>
        <location filename="../refund.py" line="97" />
        <source>お支払い {paid}　返金できる残り {remaining}</source>
        <translation>Paid {paid}  Left to refund {remaining}</translation>
    </message>
</context>
<context>
    <name>ResultScreen</name>
    <message>
        <location filename="../result.py" line="34" />
        <source>次のお会計</source>
        <translation>Next sale</translation>
    </message>
    <message>
        <location filename="../result.py" line="35" />
        <source>もう一度</source>
        <translation>Try again</translation>
    </message>
    <message>
        <location filename="../result.py" line="36" />
        <source>金額入力に戻る</source>
        <translation>Back to amount</translation>
    </message>
    <message>
        <location filename="../result.py" line="37" />
        <source>再印刷</source>
        <translation>Reprint</translation>
    </message>
    <message>
        <location filename="../result.py" line="63" />
        <source>承認</source>
        <translation>Approved</translation>
    </message>
    <message>
        <location filename="../result.py" line="65" />
        <source>QR（お客様読み取り）</source>
        <translation>QR (customer scanned)</translation>
    </message>
    <message>
        <location filename="../result.py" line="65" />
        <source>コード読み取り</source>
        <translation>Code scanned</translation>
    </message>
    <message>
        <location filename="../result.py" line="67" />
        <source>{method}　取引番号 {payment_id}</source>
        <translation>{method}  Transaction {payment_id}</translation>
    </message>
    <message>
        <location filename="../result.py" line="74" />
        <source>返金しました</source>
        <translation>Refunded</translation>
    </message>
    <message>
        <location filename="../result.py" line="77" />
        <source>返金番号 {refund_id}（元の取引 {payment_id}）</source>
        <translation>Refund {refund_id} (transaction {payment_id})</translation>
    </message>
    <message>
        <location filename="../result.py" line="91" />
        <source>レシートを印刷しています…</source>
        <translation>Printing the receipt…</translation>
    </message>
    <message>
        <location filename="../result.py" line="94" />
        <source>レシートを印刷しました</source>
        <translation>Receipt printed</translation>
    </message>
</context>
<context>
    <name>SaleLines</name>
    <message>
        <location filename="../sale_screen.py" line="33" />
        <source>※は軽減税率対象</source>
        <translation>※ reduced tax rate</translation>
    </message>
</context>
<context>
    <name>SaleScreen</name>
    <message>
        <location filename="../sale_screen.py" line="49" />
        <source>入力中の金額</source>
        <translation>Amount being entered</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="61" />
        <source>10%で確定</source>
        <translation>Add at 10%</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="64" />
        <source>8%（軽減）で確定</source>
        <translation>Add at 8% (reduced)</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="67" />
        <source>QRを表示</source>
        <translation>Show QR</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="70" />
        <source>コードを読む</source>
        <translation>Scan code</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="73" />
        <source>履歴</source>
        <translation>History</translation>
    </message>
    <message>
        <location filename="../sale_screen.py" line="115" />
        <source>合計 {total}</source>
        <translation>Total {total}</translation>
    </message>
</context>
<context>
    <name>TerminalController</name>
    <message>
        <location filename="../terminal_window.py" line="189" />
        <source>QRコードの有効期限が切れました</source>
        <translation>The QR code has expired</translation>
    </message>
    <message>
        <location filename="../terminal_window.py" line="196" />
        <source>お支払いできませんでした</source>
        <translation>Payment failed</translation>
    </message>
    <message>
        <location filename="../terminal_window.py" line="222" />
        <source>先に金額を入力して「コードを読む」を押してください</source>
        <translation>Enter the amount first, then press Scan code</translation>
    </message>
</context>
<context>
    <name>TerminalWindow</name>
    <message>
        <location filename="../terminal_window.py" line="237" />
        <source>地域コイン 決済端末</source>
        <translation>Local coin payment terminal</translation>
    </message>
</context>
</TS>